/* An application of the installed SDK, built with pkg-config outside the
 * repository by tools/test_install.sh and run without LD_LIBRARY_PATH. */
#include <stdio.h>

#include <faceless.h>

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: app IMAGE\n");
        return 2;
    }
    FacelessOptions options;
    faceless_options_init(&options);
    FacelessPipeline *pipeline = NULL;
    if (faceless_pipeline_create(&options, &pipeline) != FACELESS_OK) {
        fprintf(stderr, "create: %s\n", faceless_last_error());
        return 1;
    }
    FacelessResult *result = NULL;
    if (faceless_analyze_file(pipeline, argv[1], &result) != FACELESS_OK) {
        fprintf(stderr, "analyze: %s\n", faceless_last_error());
        faceless_pipeline_free(pipeline);
        return 1;
    }
    printf("c: faceless %s, %zu face(s)", faceless_version(), result->face_count);
    if (result->face_count > 0)
        printf(", first: %s %.2f, age %.0f", result->faces[0].gender.label, result->faces[0].gender.prob,
               result->faces[0].age_years);
    printf("\n");
    size_t n = result->face_count;
    faceless_result_free(result);
    faceless_pipeline_free(pipeline);
    return n > 0 ? 0 : 1;
}

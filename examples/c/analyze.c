/*
 * analyze: run the whole Faceless pipeline on one image and print every
 * face with its attributes.
 *
 *   cc analyze.c $(pkg-config --cflags --libs faceless) -o analyze
 *   ./analyze [IMAGE]          (default: tests/data/astronaut.png)
 */
#include <stdio.h>

#include <faceless.h>

static void print_prediction(const char *name, const FacelessPrediction *p) {
    printf("  %-9s %-8s %.3f  [", name, p->label, p->prob);
    for (size_t i = 0; i < p->count; i++) printf("%s%s=%.3f", i ? " " : "", p->labels[i], p->probs[i]);
    printf("]\n");
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "tests/data/astronaut.png";

    FacelessOptions options;
    faceless_options_init(&options); /* defaults; change fields here */

    FacelessPipeline *pipeline = NULL;
    int32_t status = faceless_pipeline_create(&options, &pipeline);
    if (status != FACELESS_OK) {
        fprintf(stderr, "cannot create the pipeline: %s\n%s\n", faceless_status_string(status),
                faceless_last_error());
        return 1;
    }

    FacelessResult *result = NULL;
    status = faceless_analyze_file(pipeline, path, &result);
    if (status != FACELESS_OK) {
        fprintf(stderr, "%s: %s\n", path, faceless_last_error());
        faceless_pipeline_free(pipeline);
        return 1;
    }

    printf("%s: %ux%u, %zu face(s)\n", path, result->width, result->height, result->face_count);
    for (size_t i = 0; i < result->face_count; i++) {
        const FacelessFace *f = &result->faces[i];
        printf("face_%u  box [%.1f, %.1f, %.1f, %.1f]  score %.4f\n", f->id, f->bbox[0], f->bbox[1],
               f->bbox[2], f->bbox[3], f->score);
        printf("  landmarks");
        for (int k = 0; k < 5; k++) printf(" (%.1f, %.1f)", f->landmarks[k][0], f->landmarks[k][1]);
        printf("\n  age       %.1f years\n", f->age_years);
        print_prediction("age group", &f->age_group);
        print_prediction("gender", &f->gender);
        print_prediction("ethnicity", &f->ethnicity);
    }

    faceless_result_free(result);
    faceless_pipeline_free(pipeline);
    return 0;
}

/*
 * C tests of the Faceless C ABI: every entry point, its misuse, and the
 * threading contract. Plain C11 + pthreads; a tiny assert harness prints one
 * line per failed check and a closing "N passed, M failed" line.
 *
 * Usage: test_faceless [DATA_DIR]   (default: tests/data)
 *
 * Order matters in one place: ONNX Runtime is loaded once per process by the
 * first pipeline that succeeds, so the "runtime library not found" test runs
 * before any pipeline is created.
 */
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <faceless.h>

static int g_passed, g_failed;
static const char *g_test = "";

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (cond) {                                                                 \
            g_passed++;                                                             \
        } else {                                                                    \
            g_failed++;                                                             \
            fprintf(stderr, "FAIL %s (%s:%d): %s\n", g_test, __FILE__, __LINE__, #cond); \
        }                                                                           \
    } while (0)

/* A status check that also shows the status and message on failure. */
#define CHECK_STATUS(call, expected)                                                \
    do {                                                                            \
        int32_t st_ = (call);                                                       \
        if (st_ == (expected)) {                                                    \
            g_passed++;                                                             \
        } else {                                                                    \
            g_failed++;                                                             \
            fprintf(stderr, "FAIL %s (%s:%d): %s returned %d (%s), expected %s; last error: %s\n", \
                    g_test, __FILE__, __LINE__, #call, st_, faceless_status_string(st_), \
                    #expected, faceless_last_error());                              \
        }                                                                           \
    } while (0)

#define TEST(name) static void name(void)
#define RUN(name)                         \
    do {                                  \
        g_test = #name;                   \
        int before_ = g_failed;           \
        name();                           \
        printf("%s %s\n", g_failed == before_ ? "ok  " : "FAIL", #name); \
        fflush(stdout);                   \
    } while (0)

static char g_data[1024] = "tests/data";
static FacelessPipeline *g_pipe;

static const char *data_path(const char *name) {
    static _Thread_local char buf[2048];
    snprintf(buf, sizeof buf, "%s/%s", g_data, name);
    return buf;
}

static unsigned char *read_file(const char *name, size_t *len) {
    FILE *f = fopen(data_path(name), "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* astronaut.bmp (24-bit, bottom-up) as top-down BGR rows of `stride` bytes. */
static unsigned char *bmp_bgr(size_t stride, uint32_t *w, uint32_t *h, size_t *len) {
    size_t n;
    unsigned char *bmp = read_file("astronaut.bmp", &n);
    if (!bmp) return NULL;
    uint32_t off = bmp[10] | bmp[11] << 8 | bmp[12] << 16 | (uint32_t)bmp[13] << 24;
    *w = bmp[18] | bmp[19] << 8;
    *h = bmp[22] | bmp[23] << 8;
    size_t src_stride = ((size_t)*w * 3 + 3) & ~(size_t)3;
    if (stride == 0) stride = (size_t)*w * 3;
    *len = stride * *h;
    unsigned char *out = calloc(1, *len);
    for (uint32_t y = 0; y < *h; y++)
        memcpy(out + y * stride, bmp + off + (size_t)(*h - 1 - y) * src_stride, (size_t)*w * 3);
    free(bmp);
    return out;
}

static int contains(const char *hay, const char *needle) { return hay && strstr(hay, needle) != NULL; }

static void check_prediction(const FacelessPrediction *p, size_t count) {
    CHECK(p->count == count);
    CHECK(p->probs != NULL && p->labels != NULL && p->label != NULL);
    if (!p->probs || !p->labels || p->count != count) return;
    CHECK(p->index >= 0 && (size_t)p->index < count);
    double sum = 0;
    for (size_t i = 0; i < count; i++) {
        CHECK(p->probs[i] >= 0.0f && p->probs[i] <= 1.0f);
        CHECK(p->labels[i] != NULL && p->labels[i][0] != '\0');
        sum += p->probs[i];
    }
    CHECK(fabs(sum - 1.0) < 1e-3);
    CHECK(p->prob == p->probs[p->index]);
    CHECK(strcmp(p->label, p->labels[p->index]) == 0);
}

static void check_face(const FacelessFace *f, uint32_t w, uint32_t h) {
    CHECK(f->bbox[0] >= 0 && f->bbox[1] >= 0 && f->bbox[2] <= (float)w && f->bbox[3] <= (float)h);
    CHECK(f->bbox[0] < f->bbox[2] && f->bbox[1] < f->bbox[3]);
    CHECK(f->score > 0.5f && f->score <= 1.0f);
    CHECK(f->age_years >= 0.0f && f->age_years <= 120.0f);
    check_prediction(&f->age_group, 12);
    check_prediction(&f->gender, 2);
    check_prediction(&f->ethnicity, 5);
}

/* ---- library-level functions ------------------------------------------ */

TEST(version_and_abi) {
    CHECK(faceless_version() != NULL && strlen(faceless_version()) >= 5);
    CHECK(faceless_abi_version() == FACELESS_ABI_VERSION);
}

TEST(status_strings) {
    for (int32_t c = FACELESS_OK; c <= FACELESS_ERR_INTERNAL; c++) {
        const char *s = faceless_status_string(c);
        CHECK(s != NULL && strncmp(s, "FACELESS_", 9) == 0);
        for (int32_t d = FACELESS_OK; d < c; d++) CHECK(strcmp(s, faceless_status_string(d)) != 0);
    }
    CHECK(contains(faceless_status_string(FACELESS_ERR_DECODE), "FACELESS_ERR_DECODE"));
    CHECK(strcmp(faceless_status_string(-1), "unknown status code") == 0);
    CHECK(strcmp(faceless_status_string(11), "unknown status code") == 0);
    CHECK(strcmp(faceless_status_string(INT32_MAX), "unknown status code") == 0);
    CHECK(faceless_last_error() != NULL);
}

TEST(options_init_defaults) {
    FacelessOptions o;
    memset(&o, 0xAB, sizeof o);
    faceless_options_init(&o);
    CHECK(o.struct_size == sizeof(FacelessOptions));
    CHECK(o.min_face_size == 20.0f);
    CHECK(o.thresholds[0] == 0.6f && o.thresholds[1] == 0.7f && o.thresholds[2] == 0.7f);
    CHECK(o.intra_threads == 0 && o.max_pixels == 0 && o.max_concurrency == 0);
    CHECK(o.execution_providers == NULL && o.ort_library_path == NULL && o.model_dir == NULL);
    CHECK(o.classifier == FACELESS_CLASSIFIER_ACCURATE && FACELESS_CLASSIFIER_ACCURATE == 0);
    CHECK(FACELESS_CLASSIFIER_FAST == 1);
    faceless_options_init(NULL); /* ignored */
}

/* ---- pipeline creation (runtime-loading order matters) ----------------- */

TEST(create_null_out) {
    CHECK_STATUS(faceless_pipeline_create(NULL, NULL), FACELESS_ERR_NULL_POINTER);
    CHECK(contains(faceless_last_error(), "out"));
}

TEST(create_bad_struct_size) {
    FacelessOptions o;
    faceless_options_init(&o);
    FacelessPipeline *p = (FacelessPipeline *)&o; /* must be overwritten with NULL */
    o.struct_size = 0;
    CHECK_STATUS(faceless_pipeline_create(&o, &p), FACELESS_ERR_INVALID_ARGUMENT);
    CHECK(p == NULL);
    CHECK(contains(faceless_last_error(), "struct_size"));
    /* one field short of the version-1 layout */
    o.struct_size = offsetof(FacelessOptions, classifier) - 4;
    CHECK_STATUS(faceless_pipeline_create(&o, &p), FACELESS_ERR_INVALID_ARGUMENT);
    CHECK(p == NULL);
}

TEST(create_bad_classifier) {
    FacelessOptions o;
    faceless_options_init(&o);
    o.classifier = 2;
    FacelessPipeline *p = (FacelessPipeline *)&o;
    CHECK_STATUS(faceless_pipeline_create(&o, &p), FACELESS_ERR_INVALID_ARGUMENT);
    CHECK(p == NULL);
    CHECK(contains(faceless_last_error(), "options.classifier"));
}

/* Both classifiers answer the sample; a struct_size ending before the
 * field (the version-1 fields) means accurate whatever the field holds. */
TEST(create_fast_and_v1_classifier) {
    const uint32_t sizes[2] = {sizeof(FacelessOptions), offsetof(FacelessOptions, classifier)};
    const uint32_t choices[2] = {FACELESS_CLASSIFIER_FAST, 7};
    for (int i = 0; i < 2; i++) {
        FacelessOptions o;
        faceless_options_init(&o);
        o.struct_size = sizes[i];
        o.classifier = choices[i];
        o.max_concurrency = 1;
        FacelessPipeline *p = NULL;
        CHECK_STATUS(faceless_pipeline_create(&o, &p), FACELESS_OK);
        FacelessResult *r = NULL;
        CHECK_STATUS(faceless_analyze_file(p, data_path("astronaut.png"), &r), FACELESS_OK);
        CHECK(r != NULL && r->face_count == 1);
        if (r && r->face_count == 1) {
            const FacelessPrediction *g = &r->faces[0].gender;
            CHECK(g->count == 2 && fabsf(g->probs[0] + g->probs[1] - 1.0f) < 1e-3f);
        }
        faceless_result_free(r);
        faceless_pipeline_free(p);
    }
}

TEST(create_unknown_provider) {
    FacelessOptions o;
    faceless_options_init(&o);
    o.execution_providers = "cpu,quantum";
    FacelessPipeline *p = NULL;
    CHECK_STATUS(faceless_pipeline_create(&o, &p), FACELESS_ERR_INVALID_ARGUMENT);
    CHECK(p == NULL);
    CHECK(contains(faceless_last_error(), "quantum"));
}

TEST(create_negative_threads) {
    FacelessOptions o;
    faceless_options_init(&o);
    o.intra_threads = -1;
    FacelessPipeline *p = NULL;
    CHECK_STATUS(faceless_pipeline_create(&o, &p), FACELESS_ERR_INVALID_ARGUMENT);
    CHECK(p == NULL);
}

TEST(create_missing_runtime) {
    /* Must run before any pipeline loads ONNX Runtime in this process. */
    FacelessOptions o;
    faceless_options_init(&o);
    o.ort_library_path = "/nonexistent/libonnxruntime.so.1.31.1";
    FacelessPipeline *p = NULL;
    CHECK_STATUS(faceless_pipeline_create(&o, &p), FACELESS_ERR_RUNTIME);
    CHECK(p == NULL);
    CHECK(contains(faceless_last_error(), "/nonexistent/libonnxruntime.so.1.31.1"));
}

TEST(create_default) {
    CHECK_STATUS(faceless_pipeline_create(NULL, &g_pipe), FACELESS_OK);
    CHECK(g_pipe != NULL);
}

TEST(create_larger_struct_size) {
    /* A caller compiled against a newer header: unknown tail ignored. */
    struct {
        FacelessOptions o;
        unsigned char tail[32];
    } big;
    faceless_options_init(&big.o);
    memset(big.tail, 0x5A, sizeof big.tail);
    big.o.struct_size = sizeof big;
    big.o.max_concurrency = 2;
    big.o.intra_threads = 1;
    FacelessPipeline *p = NULL;
    CHECK_STATUS(faceless_pipeline_create(&big.o, &p), FACELESS_OK);
    faceless_pipeline_free(p);
}

TEST(create_cuda_unavailable) {
    FacelessOptions o;
    faceless_options_init(&o);
    o.execution_providers = "cuda";
    FacelessPipeline *p = NULL;
    CHECK_STATUS(faceless_pipeline_create(&o, &p), FACELESS_ERR_EXECUTION_PROVIDER_UNAVAILABLE);
    CHECK(p == NULL);
    CHECK(contains(faceless_last_error(), "CUDA"));
}

TEST(create_cpu_provider_explicit) {
    FacelessOptions o;
    faceless_options_init(&o);
    o.execution_providers = " CPU , ";
    FacelessPipeline *p = NULL;
    CHECK_STATUS(faceless_pipeline_create(&o, &p), FACELESS_OK);
    faceless_pipeline_free(p);
}

TEST(create_missing_model_dir) {
    FacelessOptions o;
    faceless_options_init(&o);
    o.model_dir = "/nonexistent/models";
    FacelessPipeline *p = NULL;
    CHECK_STATUS(faceless_pipeline_create(&o, &p), FACELESS_ERR_MODEL);
    CHECK(p == NULL);
}

TEST(create_bad_detector_option) {
    FacelessOptions o;
    faceless_options_init(&o);
    o.min_face_size = -5.0f;
    FacelessPipeline *p = NULL;
    CHECK_STATUS(faceless_pipeline_create(&o, &p), FACELESS_ERR_INVALID_ARGUMENT);
    CHECK(p == NULL);
}

TEST(free_null) {
    faceless_pipeline_free(NULL);
    faceless_result_free(NULL);
    CHECK(1);
}

/* ---- analysis --------------------------------------------------------- */

TEST(analyze_file_astronaut) {
    FacelessResult *r = NULL;
    CHECK_STATUS(faceless_analyze_file(g_pipe, data_path("astronaut.png"), &r), FACELESS_OK);
    if (!r) return;
    CHECK(r->width == 512 && r->height == 512);
    CHECK(r->face_count == 1);
    if (r->face_count == 1) {
        CHECK(r->faces[0].id == 0);
        check_face(&r->faces[0], r->width, r->height);
        /* the face is in the upper middle of the portrait */
        CHECK(r->faces[0].bbox[0] > 100 && r->faces[0].bbox[2] < 400 && r->faces[0].bbox[3] < 300);
        for (int i = 0; i < 5; i++)
            CHECK(r->faces[0].landmarks[i][0] > r->faces[0].bbox[0] - 5 &&
                  r->faces[0].landmarks[i][0] < r->faces[0].bbox[2] + 5);
    }
    faceless_result_free(r);
}

TEST(analyze_file_chelsea_no_face) {
    FacelessResult *r = NULL;
    CHECK_STATUS(faceless_analyze_file(g_pipe, data_path("chelsea.png"), &r), FACELESS_OK);
    if (!r) return;
    CHECK(r->width == 451 && r->height == 300);
    CHECK(r->face_count == 0 && r->faces == NULL);
    faceless_result_free(r);
}

TEST(analyze_file_misuse) {
    FacelessResult *r = (FacelessResult *)&r;
    CHECK_STATUS(faceless_analyze_file(NULL, data_path("astronaut.png"), &r), FACELESS_ERR_NULL_POINTER);
    CHECK(r == NULL);
    CHECK(contains(faceless_last_error(), "pipeline"));
    CHECK_STATUS(faceless_analyze_file(g_pipe, NULL, &r), FACELESS_ERR_NULL_POINTER);
    CHECK(contains(faceless_last_error(), "path"));
    CHECK_STATUS(faceless_analyze_file(g_pipe, data_path("astronaut.png"), NULL), FACELESS_ERR_NULL_POINTER);
    CHECK(contains(faceless_last_error(), "out"));
    CHECK_STATUS(faceless_analyze_file(g_pipe, "", &r), FACELESS_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(faceless_analyze_file(g_pipe, data_path("does_not_exist.png"), &r), FACELESS_ERR_IO);
    CHECK(contains(faceless_last_error(), "does_not_exist.png"));
    CHECK(r == NULL);
    CHECK_STATUS(faceless_analyze_file(g_pipe, data_path("truncated.jpg"), &r), FACELESS_ERR_DECODE);
    CHECK_STATUS(faceless_analyze_file(g_pipe, data_path("not_an_image.jpg"), &r), FACELESS_ERR_DECODE);
    CHECK(r == NULL);
}

TEST(analyze_encoded) {
    size_t n;
    unsigned char *jpg = read_file("astronaut.jpg", &n);
    CHECK(jpg != NULL);
    if (!jpg) return;
    FacelessResult *r = NULL;
    CHECK_STATUS(faceless_analyze_encoded(g_pipe, jpg, n, &r), FACELESS_OK);
    if (r) {
        CHECK(r->width == 256 && r->height == 256 && r->face_count == 1);
        if (r->face_count == 1) check_face(&r->faces[0], 256, 256);
        faceless_result_free(r);
    }
    r = NULL;
    CHECK_STATUS(faceless_analyze_encoded(g_pipe, jpg, n / 2, &r), FACELESS_ERR_DECODE); /* truncated */
    CHECK(r == NULL);
    CHECK_STATUS(faceless_analyze_encoded(g_pipe, jpg, 0, &r), FACELESS_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(faceless_analyze_encoded(g_pipe, jpg, SIZE_MAX, &r), FACELESS_ERR_INVALID_ARGUMENT); /* absurd length */
    CHECK_STATUS(faceless_analyze_encoded(g_pipe, NULL, n, &r), FACELESS_ERR_NULL_POINTER);
    CHECK(contains(faceless_last_error(), "data"));
    CHECK_STATUS(faceless_analyze_encoded(NULL, jpg, n, &r), FACELESS_ERR_NULL_POINTER);
    CHECK_STATUS(faceless_analyze_encoded(g_pipe, jpg, n, NULL), FACELESS_ERR_NULL_POINTER);
    free(jpg);

    unsigned char *trunc = read_file("truncated.jpg", &n);
    CHECK_STATUS(faceless_analyze_encoded(g_pipe, trunc, n, &r), FACELESS_ERR_DECODE);
    free(trunc);
    unsigned char *text = read_file("not_an_image.jpg", &n);
    CHECK_STATUS(faceless_analyze_encoded(g_pipe, text, n, &r), FACELESS_ERR_DECODE);
    free(text);
    CHECK(r == NULL);
}

/* The same pixels in every format and with a padded stride give the same
 * face as the BMP file (gray: still exactly one face). */
TEST(analyze_pixels_formats) {
    uint32_t w, h;
    size_t len;
    unsigned char *bgr = bmp_bgr(0, &w, &h, &len);
    CHECK(bgr != NULL && w == 256 && h == 256);
    if (!bgr) return;
    FacelessResult *ref = NULL, *r = NULL;
    CHECK_STATUS(faceless_analyze_file(g_pipe, data_path("astronaut.bmp"), &ref), FACELESS_OK);
    if (!ref) return;
    CHECK(ref->face_count == 1);

    CHECK_STATUS(faceless_analyze_pixels(g_pipe, bgr, len, w, h, (size_t)w * 3, FACELESS_PIXEL_FORMAT_BGR, &r), FACELESS_OK);
    if (r) {
        CHECK(r->face_count == 1 && r->width == w && r->height == h);
        if (r->face_count == 1 && ref->face_count == 1)
            CHECK(memcmp(r->faces[0].bbox, ref->faces[0].bbox, sizeof ref->faces[0].bbox) == 0);
        faceless_result_free(r);
        r = NULL;
    }

    /* padded stride */
    size_t stride = (size_t)w * 3 + 13, plen;
    unsigned char *padded = bmp_bgr(stride, &w, &h, &plen);
    CHECK_STATUS(faceless_analyze_pixels(g_pipe, padded, plen, w, h, stride, FACELESS_PIXEL_FORMAT_BGR, &r), FACELESS_OK);
    if (r) {
        CHECK(r->face_count == 1);
        if (r->face_count == 1 && ref->face_count == 1)
            CHECK(memcmp(r->faces[0].bbox, ref->faces[0].bbox, sizeof ref->faces[0].bbox) == 0);
        faceless_result_free(r);
        r = NULL;
    }
    free(padded);

    /* RGB, RGBA, BGRA, GRAY8 */
    size_t npx = (size_t)w * h;
    unsigned char *rgb = malloc(npx * 3), *rgba = malloc(npx * 4), *bgra = malloc(npx * 4), *gray = malloc(npx);
    for (size_t i = 0; i < npx; i++) {
        unsigned char b = bgr[i * 3], g = bgr[i * 3 + 1], rr = bgr[i * 3 + 2];
        rgb[i * 3] = rr, rgb[i * 3 + 1] = g, rgb[i * 3 + 2] = b;
        rgba[i * 4] = rr, rgba[i * 4 + 1] = g, rgba[i * 4 + 2] = b, rgba[i * 4 + 3] = 7;
        bgra[i * 4] = b, bgra[i * 4 + 1] = g, bgra[i * 4 + 2] = rr, bgra[i * 4 + 3] = 200;
        gray[i] = (unsigned char)((299 * rr + 587 * g + 114 * b + 500) / 1000);
    }
    struct { const unsigned char *px; size_t bpp; int32_t fmt; } cases[] = {
        {rgb, 3, FACELESS_PIXEL_FORMAT_RGB},
        {rgba, 4, FACELESS_PIXEL_FORMAT_RGBA},
        {bgra, 4, FACELESS_PIXEL_FORMAT_BGRA},
        {gray, 1, FACELESS_PIXEL_FORMAT_GRAY8},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        r = NULL;
        CHECK_STATUS(faceless_analyze_pixels(g_pipe, cases[c].px, npx * cases[c].bpp, w, h, w * cases[c].bpp,
                                             cases[c].fmt, &r), FACELESS_OK);
        if (!r) continue;
        CHECK(r->face_count == 1);
        if (cases[c].fmt != FACELESS_PIXEL_FORMAT_GRAY8 && r->face_count == 1 && ref->face_count == 1)
            CHECK(memcmp(r->faces[0].bbox, ref->faces[0].bbox, sizeof ref->faces[0].bbox) == 0);
        faceless_result_free(r);
    }
    free(rgb), free(rgba), free(bgra), free(gray), free(bgr);
    faceless_result_free(ref);
}

TEST(analyze_pixels_misuse) {
    static unsigned char px[64 * 64 * 4];
    FacelessResult *r = (FacelessResult *)px;
    const int32_t RGB = FACELESS_PIXEL_FORMAT_RGB;
    CHECK_STATUS(faceless_analyze_pixels(NULL, px, sizeof px, 64, 64, 192, RGB, &r), FACELESS_ERR_NULL_POINTER);
    CHECK(r == NULL);
    CHECK_STATUS(faceless_analyze_pixels(g_pipe, NULL, sizeof px, 64, 64, 192, RGB, &r), FACELESS_ERR_NULL_POINTER);
    CHECK_STATUS(faceless_analyze_pixels(g_pipe, px, sizeof px, 64, 64, 192, RGB, NULL), FACELESS_ERR_NULL_POINTER);
    /* zero sizes */
    CHECK_STATUS(faceless_analyze_pixels(g_pipe, px, 0, 64, 64, 192, RGB, &r), FACELESS_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(faceless_analyze_pixels(g_pipe, px, sizeof px, 0, 64, 192, RGB, &r), FACELESS_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(faceless_analyze_pixels(g_pipe, px, sizeof px, 64, 0, 192, RGB, &r), FACELESS_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(faceless_analyze_pixels(g_pipe, px, sizeof px, 64, 64, 0, RGB, &r), FACELESS_ERR_INVALID_ARGUMENT);
    /* stride shorter than a row (RGBA row is 256 bytes) */
    CHECK_STATUS(faceless_analyze_pixels(g_pipe, px, sizeof px, 64, 64, 255, FACELESS_PIXEL_FORMAT_RGBA, &r),
                 FACELESS_ERR_INVALID_ARGUMENT);
    CHECK(contains(faceless_last_error(), "stride"));
    /* buffer shorter than stride x height */
    CHECK_STATUS(faceless_analyze_pixels(g_pipe, px, 64 * 192 - 1, 64, 64, 192, RGB, &r), FACELESS_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(faceless_analyze_pixels(g_pipe, px, sizeof px, 64, 64, 1000, RGB, &r), FACELESS_ERR_INVALID_ARGUMENT);
    /* unknown format */
    CHECK_STATUS(faceless_analyze_pixels(g_pipe, px, sizeof px, 64, 64, 192, 99, &r), FACELESS_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(faceless_analyze_pixels(g_pipe, px, sizeof px, 64, 64, 192, -1, &r), FACELESS_ERR_INVALID_ARGUMENT);
    /* absurd dimensions */
    CHECK_STATUS(faceless_analyze_pixels(g_pipe, px, sizeof px, 100000, 100000, 300000, RGB, &r),
                 FACELESS_ERR_IMAGE_TOO_LARGE);
    CHECK_STATUS(faceless_analyze_pixels(g_pipe, px, sizeof px, UINT32_MAX, UINT32_MAX, SIZE_MAX, RGB, &r),
                 FACELESS_ERR_IMAGE_TOO_LARGE);
    CHECK(r == NULL);
    /* a plain grey image: valid, no face */
    memset(px, 128, sizeof px);
    CHECK_STATUS(faceless_analyze_pixels(g_pipe, px, sizeof px, 64, 64, 256, FACELESS_PIXEL_FORMAT_RGBA, &r), FACELESS_OK);
    if (r) CHECK(r->face_count == 0);
    faceless_result_free(r);
}

TEST(max_pixels_option) {
    FacelessOptions o;
    faceless_options_init(&o);
    o.max_pixels = 300 * 300;
    FacelessPipeline *p = NULL;
    CHECK_STATUS(faceless_pipeline_create(&o, &p), FACELESS_OK);
    FacelessResult *r = NULL;
    CHECK_STATUS(faceless_analyze_file(p, data_path("astronaut.png"), &r), FACELESS_ERR_IMAGE_TOO_LARGE);
    CHECK(r == NULL);
    CHECK_STATUS(faceless_analyze_file(p, data_path("astronaut.jpg"), &r), FACELESS_OK); /* 256x256 fits */
    faceless_result_free(r);
    faceless_pipeline_free(p);
}

TEST(input_limits) {
    FacelessPipeline *p = NULL;
    CHECK_STATUS(faceless_pipeline_create(NULL, &p), FACELESS_OK);
    CHECK_STATUS(faceless_pipeline_set_input_limits(NULL, 1000, 0), FACELESS_ERR_NULL_POINTER);
    CHECK_STATUS(faceless_pipeline_set_input_limits(p, 1000, 0), FACELESS_OK);
    FacelessResult *r = NULL;
    CHECK_STATUS(faceless_analyze_file(p, data_path("astronaut.png"), &r), FACELESS_ERR_IMAGE_TOO_LARGE);
    CHECK(contains(faceless_last_error(), "1000 bytes"));
    CHECK(r == NULL);
    /* A device is refused without being read (no hang, no memory blow-up). */
    CHECK_STATUS(faceless_analyze_file(p, "/dev/zero", &r), FACELESS_ERR_IO);
    CHECK_STATUS(faceless_pipeline_set_input_limits(p, 0, 0), FACELESS_OK);
    CHECK_STATUS(faceless_analyze_file(p, data_path("astronaut.png"), &r), FACELESS_OK);
    faceless_result_free(r);
    faceless_pipeline_free(p);
}

TEST(analyze_batch) {
    size_t jlen, tlen;
    unsigned char *jpg = read_file("astronaut.jpg", &jlen);
    unsigned char *trunc = read_file("truncated.jpg", &tlen);
    uint32_t w, h;
    size_t plen;
    unsigned char *bgr = bmp_bgr(0, &w, &h, &plen);
    FacelessImage imgs[7];
    memset(imgs, 0, sizeof imgs);
    char p0[2048], p1[2048];
    snprintf(p0, sizeof p0, "%s", data_path("astronaut.png"));
    snprintf(p1, sizeof p1, "%s", data_path("chelsea.png"));
    imgs[0].kind = FACELESS_IMAGE_KIND_FILE, imgs[0].path = p0;
    imgs[1].kind = FACELESS_IMAGE_KIND_FILE, imgs[1].path = p1;
    imgs[2].kind = FACELESS_IMAGE_KIND_ENCODED, imgs[2].data = jpg, imgs[2].len = jlen;
    imgs[3].kind = FACELESS_IMAGE_KIND_PIXELS, imgs[3].data = bgr, imgs[3].len = plen, imgs[3].width = w,
    imgs[3].height = h, imgs[3].stride = (size_t)w * 3, imgs[3].format = FACELESS_PIXEL_FORMAT_BGR;
    imgs[4].kind = FACELESS_IMAGE_KIND_ENCODED, imgs[4].data = trunc, imgs[4].len = tlen;
    imgs[5].kind = 42;
    imgs[6].kind = FACELESS_IMAGE_KIND_FILE, imgs[6].path = NULL;
    FacelessResult *res[7];
    int32_t st[7];
    CHECK_STATUS(faceless_analyze_batch(g_pipe, imgs, 7, res, st), FACELESS_ERR_DECODE);
    CHECK(contains(faceless_last_error(), "image 4"));
    size_t expect_faces[4] = {1, 0, 1, 1};
    for (int i = 0; i < 4; i++) {
        CHECK(st[i] == FACELESS_OK && res[i] != NULL);
        if (res[i]) CHECK(res[i]->face_count == expect_faces[i]);
    }
    CHECK(st[4] == FACELESS_ERR_DECODE && res[4] == NULL);
    CHECK(st[5] == FACELESS_ERR_INVALID_ARGUMENT && res[5] == NULL);
    CHECK(st[6] == FACELESS_ERR_NULL_POINTER && res[6] == NULL);
    for (int i = 0; i < 7; i++) faceless_result_free(res[i]);

    /* all good: FACELESS_OK */
    CHECK_STATUS(faceless_analyze_batch(g_pipe, imgs, 4, res, st), FACELESS_OK);
    for (int i = 0; i < 4; i++) faceless_result_free(res[i]);

    /* the call's own misuse */
    CHECK_STATUS(faceless_analyze_batch(g_pipe, imgs, 0, NULL, NULL), FACELESS_OK);
    CHECK_STATUS(faceless_analyze_batch(NULL, imgs, 4, res, st), FACELESS_ERR_NULL_POINTER);
    CHECK_STATUS(faceless_analyze_batch(g_pipe, NULL, 4, res, st), FACELESS_ERR_NULL_POINTER);
    CHECK(contains(faceless_last_error(), "images"));
    CHECK_STATUS(faceless_analyze_batch(g_pipe, imgs, 4, NULL, st), FACELESS_ERR_NULL_POINTER);
    CHECK_STATUS(faceless_analyze_batch(g_pipe, imgs, 4, res, NULL), FACELESS_ERR_NULL_POINTER);
    CHECK_STATUS(faceless_analyze_batch(g_pipe, imgs, SIZE_MAX, res, st), FACELESS_ERR_INVALID_ARGUMENT);

    /* faceless_analyze_images: the call ran (OK) though three images failed;
     * each outcome has its own status and message */
    FacelessImageOutcome out[7];
    memset(out, 0, sizeof out);
    CHECK_STATUS(faceless_analyze_images(g_pipe, imgs, 7, out), FACELESS_OK);
    for (int i = 0; i < 4; i++) {
        CHECK(out[i].status == FACELESS_OK && out[i].result != NULL && out[i].message == NULL);
        if (out[i].result) CHECK(out[i].result->face_count == expect_faces[i]);
    }
    CHECK(out[4].status == FACELESS_ERR_DECODE && out[4].result == NULL);
    CHECK(out[4].message != NULL && contains(out[4].message, "decode"));
    CHECK(out[5].status == FACELESS_ERR_INVALID_ARGUMENT && contains(out[5].message, "image kind 42"));
    CHECK(out[6].status == FACELESS_ERR_NULL_POINTER && contains(out[6].message, "path"));
    faceless_image_outcomes_free(out, 7);
    for (int i = 0; i < 7; i++) CHECK(out[i].result == NULL && out[i].message == NULL);
    faceless_image_outcomes_free(out, 7); /* a second free frees nothing */
    CHECK_STATUS(faceless_analyze_images(g_pipe, NULL, 7, out), FACELESS_ERR_NULL_POINTER);
    CHECK_STATUS(faceless_analyze_images(g_pipe, imgs, 7, NULL), FACELESS_ERR_NULL_POINTER);
    CHECK_STATUS(faceless_analyze_images(g_pipe, imgs, 0, NULL), FACELESS_OK);
    free(jpg), free(trunc), free(bgr);
}

TEST(classify_aligned) {
    static unsigned char chip[112 * 112];
    for (size_t i = 0; i < sizeof chip; i++) chip[i] = (unsigned char)(i * 7);
    FacelessResult *r = NULL;
    CHECK_STATUS(faceless_classify_aligned_pixels(g_pipe, chip, sizeof chip, 112, 112, 112, FACELESS_PIXEL_FORMAT_GRAY8, &r),
                 FACELESS_OK);
    if (r) {
        CHECK(r->width == 112 && r->height == 112 && r->face_count == 1);
        if (r->face_count == 1) {
            const FacelessFace *f = &r->faces[0];
            CHECK(f->id == 0 && f->score == 1.0f);
            CHECK(f->bbox[0] == 0 && f->bbox[1] == 0 && f->bbox[2] == 112 && f->bbox[3] == 112);
            for (int i = 0; i < 5; i++) CHECK(f->landmarks[i][0] == 0 && f->landmarks[i][1] == 0);
            check_prediction(&f->age_group, 12);
            check_prediction(&f->gender, 2);
            check_prediction(&f->ethnicity, 5);
        }
        faceless_result_free(r);
    }
    size_t n;
    unsigned char *jpg = read_file("astronaut.jpg", &n);
    r = NULL;
    CHECK_STATUS(faceless_classify_aligned_encoded(g_pipe, jpg, n, &r), FACELESS_OK);
    if (r) {
        CHECK(r->face_count == 1 && r->faces[0].bbox[2] == 256 && r->faces[0].bbox[3] == 256);
        faceless_result_free(r);
    }
    r = NULL;
    /* misuse */
    CHECK_STATUS(faceless_classify_aligned_encoded(NULL, jpg, n, &r), FACELESS_ERR_NULL_POINTER);
    CHECK_STATUS(faceless_classify_aligned_encoded(g_pipe, NULL, n, &r), FACELESS_ERR_NULL_POINTER);
    CHECK_STATUS(faceless_classify_aligned_encoded(g_pipe, jpg, n, NULL), FACELESS_ERR_NULL_POINTER);
    CHECK_STATUS(faceless_classify_aligned_encoded(g_pipe, jpg, 0, &r), FACELESS_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(faceless_classify_aligned_encoded(g_pipe, jpg, 100, &r), FACELESS_ERR_DECODE);
    CHECK_STATUS(faceless_classify_aligned_pixels(NULL, chip, sizeof chip, 112, 112, 112, 4, &r), FACELESS_ERR_NULL_POINTER);
    CHECK_STATUS(faceless_classify_aligned_pixels(g_pipe, NULL, sizeof chip, 112, 112, 112, 4, &r), FACELESS_ERR_NULL_POINTER);
    CHECK_STATUS(faceless_classify_aligned_pixels(g_pipe, chip, sizeof chip, 112, 112, 112, 4, NULL), FACELESS_ERR_NULL_POINTER);
    CHECK_STATUS(faceless_classify_aligned_pixels(g_pipe, chip, sizeof chip, 0, 112, 112, 4, &r), FACELESS_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(faceless_classify_aligned_pixels(g_pipe, chip, sizeof chip, 112, 112, 111, 4, &r), FACELESS_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(faceless_classify_aligned_pixels(g_pipe, chip, sizeof chip - 1, 112, 112, 112, 4, &r), FACELESS_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(faceless_classify_aligned_pixels(g_pipe, chip, sizeof chip, 112, 112, 112, 5, &r), FACELESS_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(faceless_classify_aligned_pixels(g_pipe, chip, sizeof chip, 200000, 200000, 600000, 0, &r),
                 FACELESS_ERR_IMAGE_TOO_LARGE);
    CHECK(r == NULL);
    free(jpg);
}

/* Results are independent: a later call neither changes nor frees them, and
 * they outlive the pipeline. */
TEST(results_are_independent) {
    FacelessPipeline *p = NULL;
    CHECK_STATUS(faceless_pipeline_create(NULL, &p), FACELESS_OK);
    FacelessResult *a = NULL, *b = NULL;
    CHECK_STATUS(faceless_analyze_file(p, data_path("astronaut.png"), &a), FACELESS_OK);
    if (!a || a->face_count != 1) return;
    FacelessFace copy = a->faces[0];
    char label[64];
    snprintf(label, sizeof label, "%s", a->faces[0].gender.label);
    CHECK_STATUS(faceless_analyze_file(p, data_path("astronaut.jpg"), &b), FACELESS_OK);
    CHECK(a != b);
    faceless_pipeline_free(p);
    CHECK(memcmp(copy.bbox, a->faces[0].bbox, sizeof copy.bbox) == 0);
    CHECK(strcmp(label, a->faces[0].gender.label) == 0);
    CHECK(a->faces[0].age_group.probs[0] == copy.age_group.probs[0]);
    faceless_result_free(b);
    faceless_result_free(a);
}

/* ---- threads ------------------------------------------------------------ */

typedef struct {
    int ok;
    float bbox[4];
    int last_error_private;
} ThreadOut;

static float g_ref_bbox[4];

static void *worker(void *arg) {
    ThreadOut *out = arg;
    out->ok = 1;
    for (int it = 0; it < 3; it++) {
        FacelessResult *r = NULL;
        if (faceless_analyze_file(g_pipe, data_path("astronaut.png"), &r) != FACELESS_OK || !r ||
            r->face_count != 1) {
            out->ok = 0;
        } else if (memcmp(r->faces[0].bbox, g_ref_bbox, sizeof g_ref_bbox) != 0) {
            out->ok = 0;
        }
        faceless_result_free(r);
    }
    /* this thread's last error is its own */
    FacelessResult *r = NULL;
    faceless_analyze_file(g_pipe, NULL, &r);
    out->last_error_private = contains(faceless_last_error(), "`path`");
    return NULL;
}

TEST(threads_share_one_handle) {
    FacelessResult *r = NULL;
    CHECK_STATUS(faceless_analyze_file(g_pipe, data_path("astronaut.png"), &r), FACELESS_OK);
    if (!r || r->face_count != 1) return;
    memcpy(g_ref_bbox, r->faces[0].bbox, sizeof g_ref_bbox);
    faceless_result_free(r);
    /* a distinctive error on the main thread first */
    CHECK_STATUS(faceless_analyze_encoded(g_pipe, NULL, 1, &r), FACELESS_ERR_NULL_POINTER);
    enum { N = 4 };
    pthread_t t[N];
    ThreadOut outs[N];
    memset(outs, 0, sizeof outs);
    for (int i = 0; i < N; i++) CHECK(pthread_create(&t[i], NULL, worker, &outs[i]) == 0);
    for (int i = 0; i < N; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < N; i++) {
        CHECK(outs[i].ok);
        CHECK(outs[i].last_error_private);
    }
    CHECK(contains(faceless_last_error(), "`data`"));
}

int main(int argc, char **argv) {
    if (argc > 1) snprintf(g_data, sizeof g_data, "%s", argv[1]);
    printf("faceless %s, ABI %u\n", faceless_version(), faceless_abi_version());
    RUN(version_and_abi);
    RUN(status_strings);
    RUN(options_init_defaults);
    RUN(create_null_out);
    RUN(create_bad_struct_size);
    RUN(create_unknown_provider);
    RUN(create_negative_threads);
    RUN(create_missing_runtime); /* before the runtime is loaded */
    RUN(create_default);
    if (!g_pipe) {
        fprintf(stderr, "no pipeline (%s); skipping the analysis tests\n", faceless_last_error());
        printf("%d passed, %d failed\n", g_passed, g_failed + 1);
        return 1;
    }
    RUN(create_larger_struct_size);
    RUN(create_cuda_unavailable);
    RUN(create_bad_classifier);
    RUN(create_fast_and_v1_classifier);
    RUN(create_cpu_provider_explicit);
    RUN(create_missing_model_dir);
    RUN(create_bad_detector_option);
    RUN(free_null);
    RUN(analyze_file_astronaut);
    RUN(analyze_file_chelsea_no_face);
    RUN(analyze_file_misuse);
    RUN(analyze_encoded);
    RUN(analyze_pixels_formats);
    RUN(analyze_pixels_misuse);
    RUN(max_pixels_option);
    RUN(input_limits);
    RUN(analyze_batch);
    RUN(classify_aligned);
    RUN(results_are_independent);
    RUN(threads_share_one_handle);
    faceless_pipeline_free(g_pipe);
    printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed == 0 ? 0 : 1;
}

// GoogleTest tests of faceless.hpp. Test images come from FACELESS_TEST_DATA
// (default: tests/data relative to the working directory).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "faceless.hpp"

namespace {

std::string data(const std::string& name) {
    const char* dir = std::getenv("FACELESS_TEST_DATA");
    return std::string(dir ? dir : "tests/data") + "/" + name;
}

std::vector<uint8_t> read(const std::string& name) {
    std::ifstream f(data(name), std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// One pipeline for the whole test program (creation loads the models).
const faceless::Pipeline& pipeline() {
    static const faceless::Pipeline p;
    return p;
}

void expect_prediction(const faceless::Prediction& p, size_t n) {
    ASSERT_EQ(p.probs.size(), n);
    ASSERT_EQ(p.labels.size(), n);
    ASSERT_GE(p.index, 0);
    ASSERT_LT(static_cast<size_t>(p.index), n);
    float sum = 0;
    for (float v : p.probs) sum += v;
    EXPECT_NEAR(sum, 1.0f, 1e-3f);
    EXPECT_EQ(p.label, p.labels[p.index]);
    EXPECT_EQ(p.prob, p.probs[p.index]);
}

template <typename F>
int32_t status_of(F&& f) {
    try {
        f();
    } catch (const faceless::Error& e) {
        EXPECT_NE(std::string(e.what()), "");
        return e.status();
    }
    return FACELESS_OK;
}

}  // namespace

TEST(Library, VersionAndAbi) {
    EXPECT_FALSE(faceless::version().empty());
    EXPECT_EQ(faceless::abi_version(), static_cast<uint32_t>(FACELESS_ABI_VERSION));
}

TEST(Options, DefaultsComeFromTheLibrary) {
    faceless::Options o;
    EXPECT_FLOAT_EQ(o.min_face_size, 20.0f);
    EXPECT_FLOAT_EQ(o.thresholds[0], 0.6f);
    EXPECT_EQ(o.max_concurrency, 0u);
    EXPECT_EQ(o.classifier, faceless::Classifier::Accurate);
}

TEST(Pipeline, FastAndAccurateClassifiersBothRun) {
    for (faceless::Classifier c : {faceless::Classifier::Accurate, faceless::Classifier::Fast}) {
        faceless::Options o;
        o.max_concurrency = 1;
        o.classifier = c;
        faceless::Pipeline p(o);
        faceless::Analysis a = p.analyze_file(data("astronaut.png"));
        ASSERT_EQ(a.faces.size(), 1u);
        expect_prediction(a.faces[0].gender, 2);
        expect_prediction(a.faces[0].age_group, 12);
        expect_prediction(a.faces[0].ethnicity, 5);
    }
    // The value reaches the library, which refuses one it does not know.
    faceless::Options bad;
    bad.classifier = static_cast<faceless::Classifier>(2);
    try {
        faceless::Pipeline p(bad);
        ADD_FAILURE() << "classifier 2 was accepted";
    } catch (const faceless::Error& e) {
        EXPECT_EQ(e.status(), FACELESS_ERR_INVALID_ARGUMENT);
        EXPECT_NE(std::string(e.what()).find("options.classifier"), std::string::npos) << e.what();
    }
}

TEST(Pipeline, AstronautHasOneFace) {
    faceless::Analysis a = pipeline().analyze_file(data("astronaut.png"));
    EXPECT_EQ(a.width, 512u);
    EXPECT_EQ(a.height, 512u);
    ASSERT_EQ(a.faces.size(), 1u);
    const faceless::Face& f = a.faces[0];
    EXPECT_EQ(f.id, 0u);
    EXPECT_GT(f.score, 0.9f);
    EXPECT_LT(f.box[0], f.box[2]);
    EXPECT_LT(f.box[1], f.box[3]);
    expect_prediction(f.age_group, 12);
    expect_prediction(f.gender, 2);
    expect_prediction(f.ethnicity, 5);
    EXPECT_GE(f.age_years, 0.0f);
}

TEST(Pipeline, CatHasNoFace) {
    EXPECT_TRUE(pipeline().analyze_file(data("chelsea.png")).faces.empty());
}

TEST(Pipeline, EncodedAndPixelsAgree) {
    std::vector<uint8_t> jpg = read("astronaut.jpg");
    ASSERT_FALSE(jpg.empty());
    EXPECT_EQ(pipeline().analyze_encoded(jpg).faces.size(), 1u);

    // astronaut.bmp: 24-bit bottom-up BGR -> top-down BGR rows
    std::vector<uint8_t> bmp = read("astronaut.bmp");
    ASSERT_GT(bmp.size(), 54u);
    const uint32_t off = bmp[10] | bmp[11] << 8 | bmp[12] << 16;
    const uint32_t w = bmp[18] | bmp[19] << 8, h = bmp[22] | bmp[23] << 8;
    const size_t row = static_cast<size_t>(w) * 3;
    std::vector<uint8_t> bgr(row * h);
    for (uint32_t y = 0; y < h; y++)
        std::copy_n(bmp.begin() + off + (h - 1 - y) * row, row, bgr.begin() + y * row);
    faceless::Analysis px =
        pipeline().analyze_pixels(bgr.data(), bgr.size(), w, h, row, faceless::PixelFormat::Bgr);
    faceless::Analysis file = pipeline().analyze_file(data("astronaut.bmp"));
    ASSERT_EQ(px.faces.size(), 1u);
    ASSERT_EQ(file.faces.size(), 1u);
    EXPECT_EQ(px.faces[0].box, file.faces[0].box);
}

TEST(Pipeline, ErrorsCarryStatusAndMessage) {
    try {
        pipeline().analyze_file(data("truncated.jpg"));
        FAIL() << "no exception";
    } catch (const faceless::Error& e) {
        EXPECT_EQ(e.status(), FACELESS_ERR_DECODE);
        EXPECT_NE(std::string(e.status_string()).find("FACELESS_ERR_DECODE"), std::string::npos);
    }
    EXPECT_EQ(status_of([] { pipeline().analyze_file(data("not_an_image.jpg")); }), FACELESS_ERR_DECODE);
    EXPECT_EQ(status_of([] { pipeline().analyze_file(data("missing.png")); }), FACELESS_ERR_IO);
    std::vector<uint8_t> px(16 * 16 * 3);
    EXPECT_EQ(status_of([&] { pipeline().analyze_pixels(px.data(), px.size(), 16, 16, 47, faceless::PixelFormat::Rgb); }),
              FACELESS_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(status_of([&] { pipeline().analyze_pixels(px.data(), px.size() - 1, 16, 16, 48, faceless::PixelFormat::Rgb); }),
              FACELESS_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(status_of([&] { pipeline().analyze_pixels(px.data(), px.size(), 0, 16, 48, faceless::PixelFormat::Rgb); }),
              FACELESS_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(status_of([&] { pipeline().analyze_pixels(px.data(), px.size(), 1u << 20, 1u << 20, 3u << 20, faceless::PixelFormat::Rgb); }),
              FACELESS_ERR_IMAGE_TOO_LARGE);
    EXPECT_EQ(status_of([&] { pipeline().analyze_encoded(px.data(), 0); }), FACELESS_ERR_INVALID_ARGUMENT);
}

TEST(Pipeline, BadOptionsThrow) {
    faceless::Options o;
    o.execution_providers = "quantum";
    EXPECT_EQ(status_of([&] { faceless::Pipeline p(o); }), FACELESS_ERR_INVALID_ARGUMENT);
    pipeline();  // make sure the runtime is loaded
    o.execution_providers = "cuda";
    EXPECT_EQ(status_of([&] { faceless::Pipeline p(o); }), FACELESS_ERR_EXECUTION_PROVIDER_UNAVAILABLE);
    faceless::Options m;
    m.model_dir = "/nonexistent";
    EXPECT_EQ(status_of([&] { faceless::Pipeline p(m); }), FACELESS_ERR_MODEL);
}

TEST(Pipeline, MovedFromHandleIsNullPointerError) {
    faceless::Options o;
    o.max_concurrency = 1;
    faceless::Pipeline a(o);
    faceless::Pipeline b(std::move(a));
    EXPECT_EQ(b.analyze_file(data("astronaut.jpg")).faces.size(), 1u);
    EXPECT_EQ(a.native_handle(), nullptr);  // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(status_of([&] { a.analyze_file(data("astronaut.jpg")); }), FACELESS_ERR_NULL_POINTER);
    EXPECT_EQ(status_of([&] { a.analyze_batch({faceless::Image::file(data("astronaut.jpg"))}); }),
              FACELESS_ERR_NULL_POINTER);
}

TEST(Pipeline, Batch) {
    std::vector<uint8_t> jpg = read("astronaut.jpg"), bad = read("not_an_image.jpg");
    std::vector<faceless::BatchItem> items = pipeline().analyze_batch({
        faceless::Image::file(data("astronaut.png")),
        faceless::Image::file(data("chelsea.png")),
        faceless::Image::encoded(jpg.data(), jpg.size()),
        faceless::Image::encoded(bad.data(), bad.size()),
    });
    ASSERT_EQ(items.size(), 4u);
    ASSERT_TRUE(items[0].analysis);
    EXPECT_EQ(items[0].analysis->faces.size(), 1u);
    ASSERT_TRUE(items[1].analysis);
    EXPECT_TRUE(items[1].analysis->faces.empty());
    ASSERT_TRUE(items[2].analysis);
    EXPECT_EQ(items[2].analysis->faces.size(), 1u);
    EXPECT_EQ(items[3].status, FACELESS_ERR_DECODE);
    EXPECT_FALSE(items[3].analysis);
    EXPECT_NE(items[3].message.find("decode"), std::string::npos) << items[3].message;
    EXPECT_TRUE(items[0].message.empty());
    EXPECT_TRUE(pipeline().analyze_batch({}).empty());
    // Every image failing is still a call that ran: no exception.
    std::vector<faceless::BatchItem> all_bad =
        pipeline().analyze_batch({faceless::Image::encoded(bad.data(), bad.size())});
    EXPECT_EQ(all_bad[0].status, FACELESS_ERR_DECODE);
}

TEST(Pipeline, ClassifyAligned) {
    std::vector<uint8_t> chip(96 * 96 * 3, 120);
    faceless::Analysis a =
        pipeline().classify_aligned_pixels(chip.data(), chip.size(), 96, 96, 96 * 3, faceless::PixelFormat::Rgb);
    ASSERT_EQ(a.faces.size(), 1u);
    EXPECT_EQ(a.faces[0].score, 1.0f);
    EXPECT_EQ(a.faces[0].box, (std::array<float, 4>{0, 0, 96, 96}));
    expect_prediction(a.faces[0].gender, 2);
    std::vector<uint8_t> jpg = read("astronaut.jpg");
    EXPECT_EQ(pipeline().classify_aligned_encoded(jpg.data(), jpg.size()).faces.size(), 1u);
}

TEST(Pipeline, ThreadsShareOneHandle) {
    const auto reference = pipeline().analyze_file(data("astronaut.png")).faces.at(0).box;
    std::vector<std::thread> threads;
    std::vector<int> ok(4, 0);
    for (int t = 0; t < 4; t++) {
        threads.emplace_back([&, t] {
            bool good = true;
            for (int i = 0; i < 2; i++) {
                auto a = pipeline().analyze_file(data("astronaut.png"));
                good = good && a.faces.size() == 1 && a.faces[0].box == reference;
            }
            ok[t] = good;
        });
    }
    for (auto& th : threads) th.join();
    for (int v : ok) EXPECT_TRUE(v);
}

// faceless.hpp: header-only C++17 wrapper of the Faceless C API.
//
//   faceless::Pipeline pipeline;                       // defaults
//   for (const faceless::Face& f : pipeline.analyze_file("photo.jpg").faces)
//       std::cout << f.gender.label << " " << f.gender.prob << "\n";
//
// Failures throw faceless::Error, which carries the C status code and the
// library's message. Results are plain values (copied out of the C result,
// which is freed at once). A Pipeline is move-only and, like the C handle,
// may be used from many threads at once; calls run in parallel.
#ifndef FACELESS_HPP
#define FACELESS_HPP

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "faceless.h"

namespace faceless {

/// A failed call: `status()` is one of the FACELESS_ERR_* codes, `what()`
/// the library's message.
class Error : public std::runtime_error {
public:
    Error(int32_t status, const std::string& message)
        : std::runtime_error(message), status_(status) {}
    int32_t status() const noexcept { return status_; }
    /// The code's name and meaning, e.g. "FACELESS_ERR_DECODE: ...".
    const char* status_string() const noexcept { return faceless_status_string(status_); }

private:
    int32_t status_;
};

namespace detail {
inline void check(int32_t status) {
    if (status != FACELESS_OK) throw Error(status, faceless_last_error());
}
struct ResultDeleter {
    void operator()(FacelessResult* r) const noexcept { faceless_result_free(r); }
};
using ResultPtr = std::unique_ptr<FacelessResult, ResultDeleter>;
}  // namespace detail

/// Library version, e.g. "0.1.0".
inline std::string version() { return faceless_version(); }
/// ABI version of the loaded library (compare with FACELESS_ABI_VERSION).
inline uint32_t abi_version() { return faceless_abi_version(); }

/// Layout of one raw pixel.
enum class PixelFormat : int32_t {
    Rgb = FACELESS_PIXEL_FORMAT_RGB,
    Bgr = FACELESS_PIXEL_FORMAT_BGR,
    Rgba = FACELESS_PIXEL_FORMAT_RGBA,
    Bgra = FACELESS_PIXEL_FORMAT_BGRA,
    Gray8 = FACELESS_PIXEL_FORMAT_GRAY8,
};

/// Which classifier runs (FacelessOptions.classifier): `Fast` takes less
/// time and memory per face for somewhat lower accuracy.
enum class Classifier : uint32_t {
    Accurate = FACELESS_CLASSIFIER_ACCURATE,
    Fast = FACELESS_CLASSIFIER_FAST,
};

/// One classifier answer with the probability of every class.
struct Prediction {
    int index = 0;
    std::string label;
    float prob = 0;
    std::vector<float> probs;
    std::vector<std::string> labels;
};

/// One face: box `[x1, y1, x2, y2]`, score, five landmarks, attributes.
struct Face {
    uint32_t id = 0;
    std::array<float, 4> box{};
    float score = 0;
    std::array<std::array<float, 2>, 5> landmarks{};
    float age_years = 0;
    Prediction age_group;
    Prediction gender;
    Prediction ethnicity;
};

/// The analysis of one image.
struct Analysis {
    uint32_t width = 0;
    uint32_t height = 0;
    std::vector<Face> faces;
};

/// Pipeline options; the defaults are the library's (faceless_options_init).
struct Options {
    float min_face_size;
    std::array<float, 3> thresholds;
    int32_t intra_threads;
    std::string execution_providers;  // e.g. "cuda,cpu"; empty = CPU
    std::string ort_library_path;     // empty = ORT_DYLIB_PATH, then beside libfaceless
    std::string model_dir;            // empty = embedded models
    uint64_t max_pixels;              // 0 = library default
    uint32_t max_concurrency;         // 0 = number of CPUs
    Classifier classifier;            // Accurate (default) or Fast

    Options() {
        FacelessOptions o;
        faceless_options_init(&o);
        min_face_size = o.min_face_size;
        thresholds = {o.thresholds[0], o.thresholds[1], o.thresholds[2]};
        intra_threads = o.intra_threads;
        max_pixels = o.max_pixels;
        max_concurrency = o.max_concurrency;
        classifier = static_cast<Classifier>(o.classifier);
    }
};

/// One image of a batch. The referenced memory must outlive the batch call.
struct Image {
    FacelessImage raw{};
    std::string path;  // owned copy for FILE images

    static Image file(std::string p) {
        Image i;
        i.raw.kind = FACELESS_IMAGE_KIND_FILE;
        i.path = std::move(p);
        return i;
    }
    static Image encoded(const void* data, size_t len) {
        Image i;
        i.raw.kind = FACELESS_IMAGE_KIND_ENCODED;
        i.raw.data = static_cast<const uint8_t*>(data);
        i.raw.len = len;
        return i;
    }
    static Image pixels(const void* data, size_t len, uint32_t width, uint32_t height, size_t stride,
                        PixelFormat format) {
        Image i;
        i.raw.kind = FACELESS_IMAGE_KIND_PIXELS;
        i.raw.data = static_cast<const uint8_t*>(data);
        i.raw.len = len;
        i.raw.width = width;
        i.raw.height = height;
        i.raw.stride = stride;
        i.raw.format = static_cast<int32_t>(format);
        return i;
    }
};

/// The outcome of one batch image: `status` FACELESS_OK and `analysis` set,
/// or a failure status.
struct BatchItem {
    int32_t status = FACELESS_OK;
    /// Why the image failed; empty when `status` is FACELESS_OK.
    std::string message;
    std::optional<Analysis> analysis;
};

namespace detail {
inline Prediction convert(const FacelessPrediction& p) {
    Prediction out;
    out.index = p.index;
    out.label = p.label ? p.label : "";
    out.prob = p.prob;
    out.probs.assign(p.probs, p.probs + p.count);
    for (size_t i = 0; i < p.count; i++) out.labels.emplace_back(p.labels[i] ? p.labels[i] : "");
    return out;
}

inline Analysis convert(const FacelessResult& r) {
    Analysis a;
    a.width = r.width;
    a.height = r.height;
    a.faces.reserve(r.face_count);
    for (size_t i = 0; i < r.face_count; i++) {
        const FacelessFace& f = r.faces[i];
        Face face;
        face.id = f.id;
        for (int k = 0; k < 4; k++) face.box[k] = f.bbox[k];
        face.score = f.score;
        for (int k = 0; k < 5; k++) face.landmarks[k] = {f.landmarks[k][0], f.landmarks[k][1]};
        face.age_years = f.age_years;
        face.age_group = convert(f.age_group);
        face.gender = convert(f.gender);
        face.ethnicity = convert(f.ethnicity);
        a.faces.push_back(std::move(face));
    }
    return a;
}

inline Analysis take(FacelessResult* raw) {
    ResultPtr owned(raw);
    return convert(*owned);
}
}  // namespace detail

/// The analysis pipeline (RAII over FacelessPipeline*). Thread-safe.
class Pipeline {
public:
    explicit Pipeline(const Options& options = Options()) {
        FacelessOptions o;
        faceless_options_init(&o);
        o.min_face_size = options.min_face_size;
        for (int k = 0; k < 3; k++) o.thresholds[k] = options.thresholds[k];
        o.intra_threads = options.intra_threads;
        o.execution_providers =
            options.execution_providers.empty() ? nullptr : options.execution_providers.c_str();
        o.ort_library_path = options.ort_library_path.empty() ? nullptr : options.ort_library_path.c_str();
        o.model_dir = options.model_dir.empty() ? nullptr : options.model_dir.c_str();
        o.max_pixels = options.max_pixels;
        o.max_concurrency = options.max_concurrency;
        o.classifier = static_cast<uint32_t>(options.classifier);
        detail::check(faceless_pipeline_create(&o, &handle_));
    }
    ~Pipeline() { faceless_pipeline_free(handle_); }
    Pipeline(const Pipeline&) = delete;
    Pipeline& operator=(const Pipeline&) = delete;
    Pipeline(Pipeline&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
    Pipeline& operator=(Pipeline&& other) noexcept {
        if (this != &other) {
            faceless_pipeline_free(handle_);
            handle_ = std::exchange(other.handle_, nullptr);
        }
        return *this;
    }

    /// The C handle (owned by this object).
    FacelessPipeline* native_handle() const noexcept { return handle_; }

    Analysis analyze_file(const std::string& path) const {
        FacelessResult* r = nullptr;
        detail::check(faceless_analyze_file(handle_, path.c_str(), &r));
        return detail::take(r);
    }

    Analysis analyze_encoded(const void* data, size_t len) const {
        FacelessResult* r = nullptr;
        detail::check(faceless_analyze_encoded(handle_, static_cast<const uint8_t*>(data), len, &r));
        return detail::take(r);
    }
    Analysis analyze_encoded(const std::vector<uint8_t>& bytes) const {
        return analyze_encoded(bytes.data(), bytes.size());
    }

    Analysis analyze_pixels(const void* data, size_t len, uint32_t width, uint32_t height, size_t stride,
                            PixelFormat format) const {
        FacelessResult* r = nullptr;
        detail::check(faceless_analyze_pixels(handle_, static_cast<const uint8_t*>(data), len, width, height,
                                              stride, static_cast<int32_t>(format), &r));
        return detail::take(r);
    }

    /// Runs a batch in parallel. Throws only when the call itself is misused;
    /// per-image failures are reported in the items.
    std::vector<BatchItem> analyze_batch(const std::vector<Image>& images) const {
        std::vector<FacelessImage> raw;
        raw.reserve(images.size());
        for (const Image& i : images) {
            FacelessImage r = i.raw;
            if (r.kind == FACELESS_IMAGE_KIND_FILE) r.path = i.path.c_str();
            raw.push_back(r);
        }
        std::vector<FacelessImageOutcome> outcomes(images.size(), FacelessImageOutcome{});
        // The status is the call's own; each image's is in its outcome.
        detail::check(faceless_analyze_images(handle_, raw.data(), raw.size(), outcomes.data()));
        // Freed once by the library, also when a conversion below throws.
        struct Free {
            std::vector<FacelessImageOutcome>& o;
            ~Free() { faceless_image_outcomes_free(o.data(), o.size()); }
        } free_outcomes{outcomes};
        std::vector<BatchItem> out(images.size());
        for (size_t i = 0; i < images.size(); i++) {
            out[i].status = outcomes[i].status;
            if (outcomes[i].message) out[i].message = outcomes[i].message;
            if (outcomes[i].result) out[i].analysis = detail::convert(*outcomes[i].result);
        }
        return out;
    }

    /// Classifies an aligned face chip (no detection): one face, box = image.
    Analysis classify_aligned_pixels(const void* data, size_t len, uint32_t width, uint32_t height,
                                     size_t stride, PixelFormat format) const {
        FacelessResult* r = nullptr;
        detail::check(faceless_classify_aligned_pixels(handle_, static_cast<const uint8_t*>(data), len, width,
                                                       height, stride, static_cast<int32_t>(format), &r));
        return detail::take(r);
    }
    Analysis classify_aligned_encoded(const void* data, size_t len) const {
        FacelessResult* r = nullptr;
        detail::check(faceless_classify_aligned_encoded(handle_, static_cast<const uint8_t*>(data), len, &r));
        return detail::take(r);
    }

private:
    FacelessPipeline* handle_ = nullptr;
};

}  // namespace faceless

#endif  // FACELESS_HPP

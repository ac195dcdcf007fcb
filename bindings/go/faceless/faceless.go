// Package faceless is the Go binding of Faceless: it finds every face in a
// photo and estimates each face's age group, gender and ethnicity, with the
// probability of every class.
//
// It wraps libfaceless through cgo; the C library and its header are found
// with pkg-config (faceless.pc), and ONNX Runtime is loaded at run time
// (ORT_DYLIB_PATH, or beside libfaceless).
//
//	p, err := faceless.New(nil)
//	if err != nil { ... }
//	defer p.Close()
//	a, err := p.AnalyzeFile("photo.jpg")
//	for _, f := range a.Faces {
//		fmt.Println(f.Gender.Label, f.Gender.Prob)
//	}
//
// A Pipeline is safe for concurrent use by many goroutines; concurrent calls
// run in parallel (the library keeps a pool of ONNX Runtime session sets).
// Gender and ethnicity are labels as annotated in the training data, not
// facts about people; every answer carries its probability.
package faceless

/*
#cgo pkg-config: faceless
#include <stdlib.h>
#include <faceless.h>
*/
import "C"

import (
	"errors"
	"runtime"
	"sync"
	"unsafe"
)

// Status is a status code of the C API.
type Status int32

// The status codes (FACELESS_OK, FACELESS_ERR_*).
const (
	StatusOK                           Status = C.FACELESS_OK
	StatusNullPointer                  Status = C.FACELESS_ERR_NULL_POINTER
	StatusInvalidArgument              Status = C.FACELESS_ERR_INVALID_ARGUMENT
	StatusIO                           Status = C.FACELESS_ERR_IO
	StatusDecode                       Status = C.FACELESS_ERR_DECODE
	StatusImageTooLarge                Status = C.FACELESS_ERR_IMAGE_TOO_LARGE
	StatusRuntime                      Status = C.FACELESS_ERR_RUNTIME
	StatusExecutionProviderUnavailable Status = C.FACELESS_ERR_EXECUTION_PROVIDER_UNAVAILABLE
	StatusModel                        Status = C.FACELESS_ERR_MODEL
	StatusInference                    Status = C.FACELESS_ERR_INFERENCE
	StatusInternal                     Status = C.FACELESS_ERR_INTERNAL
)

// String names the code, e.g. "FACELESS_ERR_DECODE: ...".
func (s Status) String() string {
	return C.GoString(C.faceless_status_string(C.int32_t(s)))
}

// Error is a failed call: the status code and the library's message.
type Error struct {
	Code    Status
	Message string
}

func (e *Error) Error() string { return "faceless: " + e.Message }

// ErrClosed is returned by calls on a closed Pipeline.
var ErrClosed = errors.New("faceless: pipeline is closed")

// Classifier chooses the classifier a Pipeline runs
// (FacelessOptions.classifier): ClassifierFast takes less time and memory per
// face for somewhat lower accuracy.
type Classifier uint32

// Classifiers.
const (
	ClassifierAccurate Classifier = C.FACELESS_CLASSIFIER_ACCURATE
	ClassifierFast     Classifier = C.FACELESS_CLASSIFIER_FAST
)

// PixelFormat is the layout of one raw pixel (8 bits per channel).
type PixelFormat int32

// Pixel formats.
const (
	RGB   PixelFormat = C.FACELESS_PIXEL_FORMAT_RGB
	BGR   PixelFormat = C.FACELESS_PIXEL_FORMAT_BGR
	RGBA  PixelFormat = C.FACELESS_PIXEL_FORMAT_RGBA
	BGRA  PixelFormat = C.FACELESS_PIXEL_FORMAT_BGRA
	Gray8 PixelFormat = C.FACELESS_PIXEL_FORMAT_GRAY8
)

// Version is the library version, e.g. "0.1.0".
func Version() string { return C.GoString(C.faceless_version()) }

// ABIVersion is the ABI version of the loaded library.
func ABIVersion() uint32 { return uint32(C.faceless_abi_version()) }

// HeaderABIVersion is the ABI version this binding was compiled against.
const HeaderABIVersion = uint32(C.FACELESS_ABI_VERSION)

// Prediction is one classifier answer with the probability of every class.
type Prediction struct {
	Index  int
	Label  string
	Prob   float32
	Probs  []float32
	Labels []string
}

// Face is one face: box [x1, y1, x2, y2], score, five [x, y] landmarks
// (eyes, nose, mouth corners) and its attributes.
type Face struct {
	ID        int
	Box       [4]float32
	Score     float32
	Landmarks [5][2]float32
	AgeYears  float32
	AgeGroup  Prediction
	Gender    Prediction
	Ethnicity Prediction
}

// Analysis is the result for one image.
type Analysis struct {
	Width, Height int
	Faces         []Face
}

// Options configure a Pipeline; start from DefaultOptions.
type Options struct {
	MinFaceSize        float32
	Thresholds         [3]float32
	IntraThreads       int
	ExecutionProviders string     // e.g. "cuda,cpu"; "" = CPU
	OrtLibraryPath     string     // "" = ORT_DYLIB_PATH, then beside libfaceless
	ModelDir           string     // "" = the models built into the library
	MaxPixels          uint64     // 0 = library default
	MaxConcurrency     uint32     // 0 = number of CPUs
	Classifier         Classifier // ClassifierAccurate (default) or ClassifierFast
}

// DefaultOptions returns the library's defaults.
func DefaultOptions() Options {
	var o C.FacelessOptions
	C.faceless_options_init(&o)
	return Options{
		MinFaceSize:    float32(o.min_face_size),
		Thresholds:     [3]float32{float32(o.thresholds[0]), float32(o.thresholds[1]), float32(o.thresholds[2])},
		IntraThreads:   int(o.intra_threads),
		MaxPixels:      uint64(o.max_pixels),
		MaxConcurrency: uint32(o.max_concurrency),
		Classifier:     Classifier(o.classifier),
	}
}

// Pipeline is a Faceless analysis pipeline. Safe for concurrent use.
type Pipeline struct {
	mu  sync.RWMutex // calls hold it shared, Close exclusively
	ptr *C.FacelessPipeline
}

// call runs f on a locked OS thread so that the C library's per-thread last
// error belongs to this call, and converts a failure into *Error.
func call(f func() C.int32_t) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if st := f(); st != C.FACELESS_OK {
		return &Error{Code: Status(st), Message: C.GoString(C.faceless_last_error())}
	}
	return nil
}

func cString(s string) *C.char {
	if s == "" {
		return nil
	}
	return C.CString(s)
}

// New creates a pipeline; nil options mean DefaultOptions().
func New(opts *Options) (*Pipeline, error) {
	o := DefaultOptions()
	if opts != nil {
		o = *opts
	}
	if o.IntraThreads < -1<<31 || o.IntraThreads > 1<<31-1 {
		return nil, &Error{Code: StatusInvalidArgument, Message: "IntraThreads out of range"}
	}
	var c C.FacelessOptions
	C.faceless_options_init(&c)
	c.min_face_size = C.float(o.MinFaceSize)
	for i := range o.Thresholds {
		c.thresholds[i] = C.float(o.Thresholds[i])
	}
	c.intra_threads = C.int32_t(o.IntraThreads)
	c.execution_providers = cString(o.ExecutionProviders)
	c.ort_library_path = cString(o.OrtLibraryPath)
	c.model_dir = cString(o.ModelDir)
	defer C.free(unsafe.Pointer(c.execution_providers))
	defer C.free(unsafe.Pointer(c.ort_library_path))
	defer C.free(unsafe.Pointer(c.model_dir))
	c.max_pixels = C.uint64_t(o.MaxPixels)
	c.max_concurrency = C.uint32_t(o.MaxConcurrency)
	c.classifier = C.uint32_t(o.Classifier)

	p := &Pipeline{}
	if err := call(func() C.int32_t { return C.faceless_pipeline_create(&c, &p.ptr) }); err != nil {
		return nil, err
	}
	runtime.SetFinalizer(p, (*Pipeline).Close)
	return p, nil
}

// Close frees the pipeline; it waits for calls in progress. Closing twice is
// harmless.
func (p *Pipeline) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ptr != nil {
		C.faceless_pipeline_free(p.ptr)
		p.ptr = nil
		runtime.SetFinalizer(p, nil)
	}
	return nil
}

// analyze runs one C entry point that writes a FacelessResult.
func (p *Pipeline) analyze(f func(*C.FacelessPipeline, **C.FacelessResult) C.int32_t) (*Analysis, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.ptr == nil {
		return nil, ErrClosed
	}
	var r *C.FacelessResult
	if err := call(func() C.int32_t { return f(p.ptr, &r) }); err != nil {
		return nil, err
	}
	defer C.faceless_result_free(r)
	return convertResult(r), nil
}

func bytesPtr(b []byte) *C.uint8_t {
	if len(b) == 0 {
		return nil
	}
	return (*C.uint8_t)(unsafe.Pointer(&b[0]))
}

func size(n int) C.size_t {
	if n < 0 {
		return 0
	}
	return C.size_t(n)
}

func u32(n int) C.uint32_t {
	if n < 0 || n > 1<<32-1 {
		return 0
	}
	return C.uint32_t(n)
}

// AnalyzeFile finds and classifies every face in an image file.
func (p *Pipeline) AnalyzeFile(path string) (*Analysis, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	return p.analyze(func(h *C.FacelessPipeline, r **C.FacelessResult) C.int32_t {
		return C.faceless_analyze_file(h, cpath, r)
	})
}

// AnalyzeEncoded analyses encoded image bytes (JPEG, PNG, BMP, WebP, GIF).
func (p *Pipeline) AnalyzeEncoded(data []byte) (*Analysis, error) {
	return p.analyze(func(h *C.FacelessPipeline, r **C.FacelessResult) C.int32_t {
		return C.faceless_analyze_encoded(h, bytesPtr(data), size(len(data)), r)
	})
}

// AnalyzePixels analyses raw pixels: height rows of width pixels, each row
// starting stride bytes after the previous.
func (p *Pipeline) AnalyzePixels(data []byte, width, height, stride int, format PixelFormat) (*Analysis, error) {
	return p.analyze(func(h *C.FacelessPipeline, r **C.FacelessResult) C.int32_t {
		return C.faceless_analyze_pixels(h, bytesPtr(data), size(len(data)), u32(width), u32(height),
			size(stride), C.int32_t(format), r)
	})
}

// ClassifyAlignedPixels classifies an already aligned face chip (no
// detection): the result has one face whose box is the whole image.
func (p *Pipeline) ClassifyAlignedPixels(data []byte, width, height, stride int, format PixelFormat) (*Analysis, error) {
	return p.analyze(func(h *C.FacelessPipeline, r **C.FacelessResult) C.int32_t {
		return C.faceless_classify_aligned_pixels(h, bytesPtr(data), size(len(data)), u32(width), u32(height),
			size(stride), C.int32_t(format), r)
	})
}

// ClassifyAlignedEncoded is ClassifyAlignedPixels for encoded bytes.
func (p *Pipeline) ClassifyAlignedEncoded(data []byte) (*Analysis, error) {
	return p.analyze(func(h *C.FacelessPipeline, r **C.FacelessResult) C.int32_t {
		return C.faceless_classify_aligned_encoded(h, bytesPtr(data), size(len(data)), r)
	})
}

// Image is one image of a batch: set Path, or Data (encoded), or Data with
// Width, Height, Stride and Format (raw pixels).
type Image struct {
	Path                  string
	Data                  []byte
	Width, Height, Stride int
	Format                PixelFormat
	Raw                   bool // Data holds raw pixels rather than an encoded image
}

// BatchItem is the outcome of one batch image: Analysis, or Err (an *Error).
type BatchItem struct {
	Analysis *Analysis
	Err      error
}

// AnalyzeBatch analyses the images in parallel (up to the pipeline's
// MaxConcurrency at a time). The error is non-nil only when the call itself
// fails; per-image failures are in the items.
func (p *Pipeline) AnalyzeBatch(images []Image) ([]BatchItem, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.ptr == nil {
		return nil, ErrClosed
	}
	n := len(images)
	if n == 0 {
		return nil, nil
	}
	var pinner runtime.Pinner
	defer pinner.Unpin()
	raw := unsafe.Slice((*C.FacelessImage)(C.calloc(C.size_t(n), C.size_t(unsafe.Sizeof(C.FacelessImage{})))), n)
	defer C.free(unsafe.Pointer(&raw[0]))
	for i, img := range images {
		switch {
		case img.Path != "":
			raw[i].kind = C.FACELESS_IMAGE_KIND_FILE
			raw[i].path = C.CString(img.Path)
			defer C.free(unsafe.Pointer(raw[i].path))
		case img.Raw:
			raw[i].kind = C.FACELESS_IMAGE_KIND_PIXELS
			raw[i].width, raw[i].height, raw[i].stride = u32(img.Width), u32(img.Height), size(img.Stride)
			raw[i].format = C.int32_t(img.Format)
		default:
			raw[i].kind = C.FACELESS_IMAGE_KIND_ENCODED
		}
		if len(img.Data) > 0 {
			pinner.Pin(&img.Data[0])
			raw[i].data = bytesPtr(img.Data)
			raw[i].len = size(len(img.Data))
		}
	}
	coutcomes := (*C.FacelessImageOutcome)(C.calloc(C.size_t(n), C.size_t(unsafe.Sizeof(C.FacelessImageOutcome{}))))
	defer C.free(unsafe.Pointer(coutcomes))
	// One locked thread for the call and the last-error message it leaves.
	runtime.LockOSThread()
	st := C.faceless_analyze_images(p.ptr, &raw[0], C.size_t(n), coutcomes)
	callMessage := C.GoString(C.faceless_last_error())
	runtime.UnlockOSThread()
	// The status is the call's own; each image's is in its outcome.
	if st != C.FACELESS_OK {
		return nil, &Error{Code: Status(st), Message: callMessage}
	}
	defer C.faceless_image_outcomes_free(coutcomes, C.size_t(n))
	items := make([]BatchItem, n)
	for i, o := range unsafe.Slice(coutcomes, n) {
		if o.result != nil {
			items[i].Analysis = convertResult(o.result)
		}
		if o.status != C.FACELESS_OK {
			items[i].Err = &Error{Code: Status(o.status), Message: C.GoString(o.message)}
		}
	}
	return items, nil
}

func convertPrediction(p *C.FacelessPrediction) Prediction {
	n := int(p.count)
	out := Prediction{Index: int(p.index), Label: C.GoString(p.label), Prob: float32(p.prob)}
	if n == 0 {
		return out
	}
	probs := unsafe.Slice(p.probs, n)
	labels := unsafe.Slice(p.labels, n)
	out.Probs = make([]float32, n)
	out.Labels = make([]string, n)
	for i := 0; i < n; i++ {
		out.Probs[i] = float32(probs[i])
		out.Labels[i] = C.GoString(labels[i])
	}
	return out
}

func convertResult(r *C.FacelessResult) *Analysis {
	a := &Analysis{Width: int(r.width), Height: int(r.height), Faces: []Face{}}
	if r.face_count == 0 {
		return a
	}
	for _, f := range unsafe.Slice(r.faces, int(r.face_count)) {
		face := Face{
			ID:        int(f.id),
			Score:     float32(f.score),
			AgeYears:  float32(f.age_years),
			AgeGroup:  convertPrediction(&f.age_group),
			Gender:    convertPrediction(&f.gender),
			Ethnicity: convertPrediction(&f.ethnicity),
		}
		for k := 0; k < 4; k++ {
			face.Box[k] = float32(f.bbox[k])
		}
		for k := 0; k < 5; k++ {
			face.Landmarks[k] = [2]float32{float32(f.landmarks[k][0]), float32(f.landmarks[k][1])}
		}
		a.Faces = append(a.Faces, face)
	}
	return a
}

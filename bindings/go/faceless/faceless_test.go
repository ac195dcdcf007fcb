package faceless

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func dataPath(name string) string {
	dir := os.Getenv("FACELESS_TEST_DATA")
	if dir == "" {
		dir = filepath.Join("..", "..", "tests", "data")
	}
	return filepath.Join(dir, name)
}

var (
	sharedOnce sync.Once
	shared     *Pipeline
	sharedErr  error
)

func pipeline(t *testing.T) *Pipeline {
	t.Helper()
	sharedOnce.Do(func() { shared, sharedErr = New(nil) })
	if sharedErr != nil {
		t.Fatalf("New: %v", sharedErr)
	}
	return shared
}

func code(err error) Status {
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Code
	}
	return -1
}

func checkPrediction(t *testing.T, name string, p Prediction, n int) {
	t.Helper()
	if len(p.Probs) != n || len(p.Labels) != n {
		t.Fatalf("%s: %d probs, %d labels, want %d", name, len(p.Probs), len(p.Labels), n)
	}
	sum := float32(0)
	for _, v := range p.Probs {
		sum += v
	}
	if math.Abs(float64(sum)-1) > 1e-3 {
		t.Errorf("%s: probabilities sum to %v", name, sum)
	}
	if p.Label != p.Labels[p.Index] || p.Prob != p.Probs[p.Index] {
		t.Errorf("%s: label/prob do not match index %d", name, p.Index)
	}
}

func bmpBGR(t *testing.T) ([]byte, int, int) {
	t.Helper()
	bmp, err := os.ReadFile(dataPath("astronaut.bmp"))
	if err != nil {
		t.Fatal(err)
	}
	off := int(binary.LittleEndian.Uint32(bmp[10:]))
	w := int(binary.LittleEndian.Uint32(bmp[18:]))
	h := int(binary.LittleEndian.Uint32(bmp[22:]))
	row := w * 3
	out := make([]byte, row*h)
	for y := 0; y < h; y++ {
		copy(out[y*row:(y+1)*row], bmp[off+(h-1-y)*row:])
	}
	return out, w, h
}

func TestVersion(t *testing.T) {
	if Version() == "" || ABIVersion() != HeaderABIVersion {
		t.Fatalf("version %q, ABI %d (header %d)", Version(), ABIVersion(), HeaderABIVersion)
	}
	if !strings.HasPrefix(StatusDecode.String(), "FACELESS_ERR_DECODE") {
		t.Errorf("StatusDecode.String() = %q", StatusDecode.String())
	}
	d := DefaultOptions()
	if d.MinFaceSize != 20 || d.Thresholds[0] != 0.6 || d.MaxConcurrency != 0 {
		t.Errorf("defaults: %+v", d)
	}
}

func TestAstronautOneFace(t *testing.T) {
	a, err := pipeline(t).AnalyzeFile(dataPath("astronaut.png"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Width != 512 || a.Height != 512 || len(a.Faces) != 1 {
		t.Fatalf("%dx%d, %d faces", a.Width, a.Height, len(a.Faces))
	}
	f := a.Faces[0]
	if f.ID != 0 || f.Score < 0.9 || f.Box[0] >= f.Box[2] || f.Box[1] >= f.Box[3] {
		t.Errorf("face %+v", f)
	}
	checkPrediction(t, "age group", f.AgeGroup, 12)
	checkPrediction(t, "gender", f.Gender, 2)
	checkPrediction(t, "ethnicity", f.Ethnicity, 5)
}

func TestCatNoFace(t *testing.T) {
	a, err := pipeline(t).AnalyzeFile(dataPath("chelsea.png"))
	if err != nil || len(a.Faces) != 0 {
		t.Fatalf("%v, %+v", err, a)
	}
}

func TestEncodedAndPixels(t *testing.T) {
	p := pipeline(t)
	jpg, _ := os.ReadFile(dataPath("astronaut.jpg"))
	if a, err := p.AnalyzeEncoded(jpg); err != nil || len(a.Faces) != 1 {
		t.Fatalf("encoded: %v", err)
	}
	bgr, w, h := bmpBGR(t)
	px, err := p.AnalyzePixels(bgr, w, h, w*3, BGR)
	if err != nil {
		t.Fatal(err)
	}
	file, err := p.AnalyzeFile(dataPath("astronaut.bmp"))
	if err != nil {
		t.Fatal(err)
	}
	if len(px.Faces) != 1 || len(file.Faces) != 1 || px.Faces[0].Box != file.Faces[0].Box {
		t.Errorf("pixels %+v vs file %+v", px.Faces, file.Faces)
	}
}

func TestErrors(t *testing.T) {
	p := pipeline(t)
	text, _ := os.ReadFile(dataPath("not_an_image.jpg"))
	px := make([]byte, 10*10*3)
	cases := []struct {
		name string
		err  error
		want Status
	}{
		{"truncated", second(p.AnalyzeFile(dataPath("truncated.jpg"))), StatusDecode},
		{"text", second(p.AnalyzeEncoded(text)), StatusDecode},
		{"missing", second(p.AnalyzeFile(dataPath("missing.png"))), StatusIO},
		{"empty bytes", second(p.AnalyzeEncoded(nil)), StatusNullPointer},
		{"short stride", second(p.AnalyzePixels(px, 10, 10, 29, RGB)), StatusInvalidArgument},
		{"short buffer", second(p.AnalyzePixels(px, 10, 11, 30, RGB)), StatusInvalidArgument},
		{"zero width", second(p.AnalyzePixels(px, 0, 10, 30, RGB)), StatusInvalidArgument},
		{"bad format", second(p.AnalyzePixels(px, 10, 10, 30, PixelFormat(9))), StatusInvalidArgument},
		{"absurd size", second(p.AnalyzePixels(px, 1<<20, 1<<20, 3<<20, RGB)), StatusImageTooLarge},
	}
	for _, c := range cases {
		if got := code(c.err); got != c.want {
			t.Errorf("%s: got %v (%v), want %v", c.name, got, c.err, c.want)
		} else if c.err.Error() == "" {
			t.Errorf("%s: empty message", c.name)
		}
	}
}

func second(_ *Analysis, err error) error { return err }

func TestBadOptions(t *testing.T) {
	o := DefaultOptions()
	o.ExecutionProviders = "quantum"
	if _, err := New(&o); code(err) != StatusInvalidArgument || !strings.Contains(err.Error(), "quantum") {
		t.Errorf("quantum: %v", err)
	}
	pipeline(t) // runtime loaded
	o.ExecutionProviders = "cuda"
	if _, err := New(&o); code(err) != StatusExecutionProviderUnavailable {
		t.Errorf("cuda: %v", err)
	}
	o = DefaultOptions()
	o.ModelDir = "/nonexistent"
	if _, err := New(&o); code(err) != StatusModel {
		t.Errorf("model dir: %v", err)
	}
}

func TestFastAndAccurateClassifiers(t *testing.T) {
	if DefaultOptions().Classifier != ClassifierAccurate {
		t.Errorf("default classifier %d", DefaultOptions().Classifier)
	}
	for _, c := range []Classifier{ClassifierAccurate, ClassifierFast} {
		o := DefaultOptions()
		o.Classifier = c
		o.MaxConcurrency = 1
		p, err := New(&o)
		if err != nil {
			t.Fatalf("classifier %d: %v", c, err)
		}
		a, err := p.AnalyzeFile(dataPath("astronaut.png"))
		p.Close()
		if err != nil || len(a.Faces) != 1 {
			t.Fatalf("classifier %d: %v, %v", c, a, err)
		}
		checkPrediction(t, "gender", a.Faces[0].Gender, 2)
		checkPrediction(t, "age group", a.Faces[0].AgeGroup, 12)
		checkPrediction(t, "ethnicity", a.Faces[0].Ethnicity, 5)
	}
	// The value reaches the library, which refuses one it does not know.
	o := DefaultOptions()
	o.Classifier = 2
	if _, err := New(&o); code(err) != StatusInvalidArgument || !strings.Contains(err.Error(), "options.classifier") {
		t.Errorf("classifier 2: %v", err)
	}
}

func TestBatch(t *testing.T) {
	jpg, _ := os.ReadFile(dataPath("astronaut.jpg"))
	trunc, _ := os.ReadFile(dataPath("truncated.jpg"))
	bgr, w, h := bmpBGR(t)
	items, err := pipeline(t).AnalyzeBatch([]Image{
		{Path: dataPath("astronaut.png")},
		{Path: dataPath("chelsea.png")},
		{Data: jpg},
		{Data: bgr, Raw: true, Width: w, Height: h, Stride: w * 3, Format: BGR},
		{Data: trunc},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []int{1, 0, 1, 1}
	for i, n := range want {
		if items[i].Err != nil || len(items[i].Analysis.Faces) != n {
			t.Errorf("item %d: %v", i, items[i].Err)
		}
	}
	if code(items[4].Err) != StatusDecode || items[4].Analysis != nil {
		t.Errorf("item 4: %v", items[4].Err)
	}
	// Each failed image has its own message, not a guess from the first.
	if msg := items[4].Err.(*Error).Message; !strings.Contains(msg, "decode") {
		t.Errorf("item 4 message: %q", msg)
	}
	// Every image failing is still a call that ran: no call error.
	if all, err := pipeline(t).AnalyzeBatch([]Image{{Data: trunc}}); err != nil || code(all[0].Err) != StatusDecode {
		t.Errorf("all images failing: %v", err)
	}
	if items, err := pipeline(t).AnalyzeBatch(nil); err != nil || len(items) != 0 {
		t.Errorf("empty batch: %v", err)
	}
}

func TestClassifyAligned(t *testing.T) {
	chip := make([]byte, 64*64)
	for i := range chip {
		chip[i] = byte(i)
	}
	a, err := pipeline(t).ClassifyAlignedPixels(chip, 64, 64, 64, Gray8)
	if err != nil || len(a.Faces) != 1 {
		t.Fatalf("%v", err)
	}
	if a.Faces[0].Box != [4]float32{0, 0, 64, 64} || a.Faces[0].Score != 1 {
		t.Errorf("chip face %+v", a.Faces[0])
	}
	checkPrediction(t, "chip gender", a.Faces[0].Gender, 2)
	jpg, _ := os.ReadFile(dataPath("astronaut.jpg"))
	if a, err := pipeline(t).ClassifyAlignedEncoded(jpg); err != nil || len(a.Faces) != 1 {
		t.Errorf("encoded chip: %v", err)
	}
}

func TestConcurrentCalls(t *testing.T) {
	p := pipeline(t)
	ref, err := p.AnalyzeFile(dataPath("astronaut.png"))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := p.AnalyzeFile(dataPath("astronaut.png"))
			if err != nil {
				errs <- err
			} else if len(a.Faces) != 1 || a.Faces[0].Box != ref.Faces[0].Box {
				errs <- errors.New("different result")
			}
			// this goroutine's error message is its own
			_, err = p.AnalyzeFile(dataPath("missing-" + strings.Repeat("x", 3) + ".png"))
			if !strings.Contains(err.Error(), "missing-xxx.png") {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestClose(t *testing.T) {
	o := DefaultOptions()
	o.MaxConcurrency = 1
	p, err := New(&o)
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	p.Close()
	if _, err := p.AnalyzeFile(dataPath("astronaut.png")); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

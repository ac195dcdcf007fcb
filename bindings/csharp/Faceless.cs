// Faceless.cs: P/Invoke binding of the Faceless C API (libfaceless).
//
//   using (var pipeline = new Faceless.Pipeline())
//       foreach (var face in pipeline.AnalyzeFile("photo.jpg").Faces)
//           Console.WriteLine($"{face.Gender.Label} {face.Gender.Prob:F2}");
//
// The pipeline handle is a SafeHandle; results are copied into managed
// objects and the native result is freed at once. Failures throw
// FacelessException carrying the C status code. A Pipeline may be used from
// many threads at once; calls run in parallel. Targets netstandard2.0 and
// Mono (no unsafe code, no newer marshalling APIs).
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text;

// The tests reach the internal copy hook (Native.CopyResult) when built as
// a separate assembly (FacelessTests.csproj).
[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("FacelessTests")]

namespace Faceless
{
    /// <summary>The C API's status codes (FACELESS_OK, FACELESS_ERR_*).</summary>
    public enum Status
    {
        Ok = 0,
        NullPointer = 1,
        InvalidArgument = 2,
        Io = 3,
        Decode = 4,
        ImageTooLarge = 5,
        Runtime = 6,
        ExecutionProviderUnavailable = 7,
        Model = 8,
        Inference = 9,
        Internal = 10,
    }

    /// <summary>Which classifier runs (FacelessOptions.classifier): Fast takes
    /// less time and memory per face for somewhat lower accuracy.</summary>
    public enum Classifier : uint
    {
        Accurate = 0,
        Fast = 1,
    }

    /// <summary>Layout of one raw pixel (8 bits per channel).</summary>
    public enum PixelFormat
    {
        Rgb = 0,
        Bgr = 1,
        Rgba = 2,
        Bgra = 3,
        Gray8 = 4,
    }

    /// <summary>A failed call: the status code and the library's message.</summary>
    public class FacelessException : Exception
    {
        public Status Status { get; }
        public int Code => (int)Status;

        public FacelessException(int code, string message)
            : base(message)
        {
            Status = (Status)code;
        }
    }

    /// <summary>One classifier answer with the probability of every class.</summary>
    public sealed class Prediction
    {
        public int Index { get; internal set; }
        public string Label { get; internal set; }
        public float Prob { get; internal set; }
        public float[] Probs { get; internal set; }
        public string[] Labels { get; internal set; }
    }

    /// <summary>One face: box [x1, y1, x2, y2], score, five [x, y] landmarks, attributes.</summary>
    public sealed class Face
    {
        public int Id { get; internal set; }
        public float[] Box { get; internal set; }
        public float Score { get; internal set; }
        public float[][] Landmarks { get; internal set; }
        public float AgeYears { get; internal set; }
        public Prediction AgeGroup { get; internal set; }
        public Prediction Gender { get; internal set; }
        public Prediction Ethnicity { get; internal set; }
    }

    /// <summary>The analysis of one image.</summary>
    public sealed class Analysis
    {
        public int Width { get; internal set; }
        public int Height { get; internal set; }
        public IReadOnlyList<Face> Faces { get; internal set; }
    }

    /// <summary>Pipeline options; the defaults are the library's.</summary>
    public sealed class Options
    {
        public float MinFaceSize { get; set; }
        public float[] Thresholds { get; set; }
        public int IntraThreads { get; set; }
        /// <summary>Comma separated, e.g. "cuda,cpu"; null = CPU.</summary>
        public string ExecutionProviders { get; set; }
        /// <summary>null = ORT_DYLIB_PATH, then beside libfaceless.</summary>
        public string OrtLibraryPath { get; set; }
        /// <summary>null = the models built into the library.</summary>
        public string ModelDir { get; set; }
        public ulong MaxPixels { get; set; }
        public uint MaxConcurrency { get; set; }
        /// <summary>Accurate (default) or Fast.</summary>
        public Classifier Classifier { get; set; }

        public Options()
        {
            var o = new Native.FacelessOptions();
            Native.faceless_options_init(ref o);
            MinFaceSize = o.min_face_size;
            Thresholds = new[] { o.threshold0, o.threshold1, o.threshold2 };
            IntraThreads = o.intra_threads;
            MaxPixels = o.max_pixels;
            MaxConcurrency = o.max_concurrency;
            Classifier = (Classifier)o.classifier;
        }
    }

    /// <summary>What a batch image holds (FacelessImageKind).</summary>
    public enum ImageKind
    {
        File = 0,
        Encoded = 1,
        Pixels = 2,
    }

    /// <summary>One image of a batch.</summary>
    public sealed class ImageInput
    {
        internal ImageKind Kind;
        internal string Path;
        internal byte[] Data;
        internal int Width, Height, Stride;
        internal PixelFormat Format;

        public static ImageInput File(string path) => new ImageInput { Kind = ImageKind.File, Path = path };
        public static ImageInput Encoded(byte[] data) => new ImageInput { Kind = ImageKind.Encoded, Data = data };
        public static ImageInput Pixels(byte[] data, int width, int height, int stride, PixelFormat format) =>
            new ImageInput { Kind = ImageKind.Pixels, Data = data, Width = width, Height = height, Stride = stride, Format = format };
    }

    /// <summary>The outcome of one batch image.</summary>
    public sealed class BatchItem
    {
        public Status Status { get; internal set; }
        /// <summary>Why the image failed; null when Status is Ok.</summary>
        public string Message { get; internal set; }
        /// <summary>null when Status is not Ok.</summary>
        public Analysis Analysis { get; internal set; }
    }

    /// <summary>Owns a FacelessPipeline*; frees it with faceless_pipeline_free.</summary>
    public sealed class PipelineHandle : SafeHandle
    {
        public PipelineHandle() : base(IntPtr.Zero, true) { }
        public override bool IsInvalid => handle == IntPtr.Zero;
        protected override bool ReleaseHandle()
        {
            Native.faceless_pipeline_free(handle);
            return true;
        }
    }

    /// <summary>Library-level information.</summary>
    public static class Library
    {
        public const uint AbiVersion = 1;
        public static string Version => Native.Utf8(Native.faceless_version());
        public static uint LoadedAbiVersion => Native.faceless_abi_version();
        public static string StatusString(int code) => Native.Utf8(Native.faceless_status_string(code));
    }

    /// <summary>The analysis pipeline. Thread-safe; dispose to free it.</summary>
    public sealed class Pipeline : IDisposable
    {
        private readonly PipelineHandle handle;

        public Pipeline(Options options = null)
        {
            options = options ?? new Options();
            var o = new Native.FacelessOptions();
            Native.faceless_options_init(ref o);
            o.min_face_size = options.MinFaceSize;
            var t = options.Thresholds ?? new[] { o.threshold0, o.threshold1, o.threshold2 };
            if (t.Length != 3) throw new ArgumentException("Thresholds must hold 3 values");
            o.threshold0 = t[0];
            o.threshold1 = t[1];
            o.threshold2 = t[2];
            o.intra_threads = options.IntraThreads;
            o.max_pixels = options.MaxPixels;
            o.max_concurrency = options.MaxConcurrency;
            o.classifier = (uint)options.Classifier;
            var strings = new List<IntPtr>();
            try
            {
                o.execution_providers = Native.AllocUtf8(options.ExecutionProviders, strings);
                o.ort_library_path = Native.AllocUtf8(options.OrtLibraryPath, strings);
                o.model_dir = Native.AllocUtf8(options.ModelDir, strings);
                Native.Check(Native.faceless_pipeline_create(ref o, out handle));
            }
            finally
            {
                foreach (var p in strings) Marshal.FreeHGlobal(p);
            }
        }

        public void Dispose() => handle.Dispose();

        private PipelineHandle Handle
        {
            get
            {
                if (handle.IsClosed) throw new ObjectDisposedException(nameof(Pipeline));
                return handle;
            }
        }

        public Analysis AnalyzeFile(string path)
        {
            if (path == null) throw new ArgumentNullException(nameof(path));
            Native.Check(Native.faceless_analyze_file(Handle, Native.Utf8Z(path), out IntPtr r));
            return Native.Take(r);
        }

        public Analysis AnalyzeEncoded(byte[] data)
        {
            if (data == null) throw new ArgumentNullException(nameof(data));
            Native.Check(Native.faceless_analyze_encoded(Handle, data, (UIntPtr)data.Length, out IntPtr r));
            return Native.Take(r);
        }

        public Analysis AnalyzePixels(byte[] data, int width, int height, int stride, PixelFormat format)
        {
            if (data == null) throw new ArgumentNullException(nameof(data));
            Native.Check(Native.faceless_analyze_pixels(Handle, data, (UIntPtr)data.Length, Native.U32(width),
                Native.U32(height), Native.Size(stride), (int)format, out IntPtr r));
            return Native.Take(r);
        }

        /// <summary>Analyses the images in parallel; per-image failures are in the items.</summary>
        public BatchItem[] AnalyzeBatch(IList<ImageInput> images)
        {
            if (images == null) throw new ArgumentNullException(nameof(images));
            int n = images.Count;
            var items = new BatchItem[n];
            if (n == 0) return items;
            var pins = new List<GCHandle>();
            var strings = new List<IntPtr>();
            var raw = new Native.FacelessImage[n];
            var outcomes = new Native.FacelessImageOutcome[n];
            try
            {
                for (int i = 0; i < n; i++)
                {
                    var img = images[i];
                    raw[i].kind = (int)img.Kind;
                    raw[i].path = Native.AllocUtf8(img.Path, strings);
                    if (img.Data != null)
                    {
                        var pin = GCHandle.Alloc(img.Data, GCHandleType.Pinned);
                        pins.Add(pin);
                        raw[i].data = pin.AddrOfPinnedObject();
                        raw[i].len = (UIntPtr)img.Data.Length;
                    }
                    raw[i].width = Native.U32(img.Width);
                    raw[i].height = Native.U32(img.Height);
                    raw[i].stride = Native.Size(img.Stride);
                    raw[i].format = (int)img.Format;
                }
                // The status is the call's own; each image's is in its outcome.
                Native.Check(Native.faceless_analyze_images(Handle, raw, (UIntPtr)n, outcomes));
                for (int i = 0; i < n; i++)
                {
                    var o = outcomes[i];
                    items[i] = new BatchItem
                    {
                        Status = (Status)o.status,
                        Message = Native.Utf8(o.message),
                        Analysis = o.result == IntPtr.Zero ? null : Native.CopyResult(o.result),
                    };
                }
                return items;
            }
            finally
            {
                // The only free of the outcomes, whatever threw above: the
                // copies never free, and the library NULLs what it freed.
                Native.faceless_image_outcomes_free(outcomes, (UIntPtr)n);
                foreach (var p in pins) p.Free();
                foreach (var p in strings) Marshal.FreeHGlobal(p);
            }
        }

        /// <summary>Classifies an aligned face chip (no detection): one face, box = whole image.</summary>
        public Analysis ClassifyAlignedPixels(byte[] data, int width, int height, int stride, PixelFormat format)
        {
            if (data == null) throw new ArgumentNullException(nameof(data));
            Native.Check(Native.faceless_classify_aligned_pixels(Handle, data, (UIntPtr)data.Length,
                Native.U32(width), Native.U32(height), Native.Size(stride), (int)format, out IntPtr r));
            return Native.Take(r);
        }

        public Analysis ClassifyAlignedEncoded(byte[] data)
        {
            if (data == null) throw new ArgumentNullException(nameof(data));
            Native.Check(Native.faceless_classify_aligned_encoded(Handle, data, (UIntPtr)data.Length, out IntPtr r));
            return Native.Take(r);
        }
    }

    internal static class Native
    {
        private const string Lib = "faceless";

        [StructLayout(LayoutKind.Sequential)]
        internal struct FacelessOptions
        {
            public uint struct_size;
            public float min_face_size;
            public float threshold0, threshold1, threshold2;
            public int intra_threads;
            public IntPtr execution_providers;
            public IntPtr ort_library_path;
            public IntPtr model_dir;
            public ulong max_pixels;
            public uint max_concurrency;
            public uint classifier;
        }

        [StructLayout(LayoutKind.Sequential)]
        internal struct FacelessImage
        {
            public int kind;
            public IntPtr path;
            public IntPtr data;
            public UIntPtr len;
            public uint width;
            public uint height;
            public UIntPtr stride;
            public int format;
        }

        [StructLayout(LayoutKind.Sequential)]
        internal struct FacelessImageOutcome
        {
            public int status;
            public IntPtr result;
            public IntPtr message;
        }

        [StructLayout(LayoutKind.Sequential)]
        internal struct FacelessPrediction
        {
            public int index;
            public IntPtr label;
            public float prob;
            public UIntPtr count;
            public IntPtr probs;
            public IntPtr labels;
        }

        [StructLayout(LayoutKind.Sequential)]
        internal struct FacelessFace
        {
            public uint id;
            public float x1, y1, x2, y2;
            public float score;
            public float l0x, l0y, l1x, l1y, l2x, l2y, l3x, l3y, l4x, l4y;
            public float age_years;
            public FacelessPrediction age_group;
            public FacelessPrediction gender;
            public FacelessPrediction ethnicity;
        }

        [StructLayout(LayoutKind.Sequential)]
        internal struct FacelessResult
        {
            public uint width;
            public uint height;
            public UIntPtr face_count;
            public IntPtr faces;
        }

        [DllImport(Lib)] internal static extern IntPtr faceless_version();
        [DllImport(Lib)] internal static extern uint faceless_abi_version();
        [DllImport(Lib)] internal static extern IntPtr faceless_status_string(int status);
        [DllImport(Lib)] internal static extern IntPtr faceless_last_error();
        [DllImport(Lib)] internal static extern void faceless_options_init(ref FacelessOptions options);
        [DllImport(Lib)] internal static extern int faceless_pipeline_create(ref FacelessOptions options, out PipelineHandle pipeline);
        [DllImport(Lib)] internal static extern void faceless_pipeline_free(IntPtr pipeline);
        [DllImport(Lib)] internal static extern void faceless_result_free(IntPtr result);
        [DllImport(Lib)] internal static extern int faceless_analyze_file(PipelineHandle p, byte[] path, out IntPtr result);
        [DllImport(Lib)] internal static extern int faceless_analyze_encoded(PipelineHandle p, byte[] data, UIntPtr len, out IntPtr result);
        [DllImport(Lib)]
        internal static extern int faceless_analyze_pixels(PipelineHandle p, byte[] data, UIntPtr len, uint width,
            uint height, UIntPtr stride, int format, out IntPtr result);
        [DllImport(Lib)]
        internal static extern int faceless_analyze_images(PipelineHandle p, [In] FacelessImage[] images, UIntPtr count,
            [In, Out] FacelessImageOutcome[] outcomes);
        [DllImport(Lib)]
        internal static extern void faceless_image_outcomes_free([In, Out] FacelessImageOutcome[] outcomes, UIntPtr count);
        [DllImport(Lib)]
        internal static extern int faceless_classify_aligned_pixels(PipelineHandle p, byte[] data, UIntPtr len,
            uint width, uint height, UIntPtr stride, int format, out IntPtr result);
        [DllImport(Lib)]
        internal static extern int faceless_classify_aligned_encoded(PipelineHandle p, byte[] data, UIntPtr len, out IntPtr result);

        internal static void Check(int status)
        {
            if (status != 0) throw new FacelessException(status, Utf8(faceless_last_error()));
        }

        // Negative sizes cannot be expressed in the C API; they map to values
        // the library rejects (0 for counts, SIZE_MAX-like for strides).
        internal static uint U32(int v) => v < 0 ? 0u : (uint)v;
        internal static UIntPtr Size(int v) => v < 0 ? UIntPtr.Zero : (UIntPtr)(uint)v;

        internal static byte[] Utf8Z(string s)
        {
            var bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
            Encoding.UTF8.GetBytes(s, 0, s.Length, bytes, 0);
            return bytes;
        }

        internal static IntPtr AllocUtf8(string s, List<IntPtr> owned)
        {
            if (s == null) return IntPtr.Zero;
            var bytes = Utf8Z(s);
            var p = Marshal.AllocHGlobal(bytes.Length);
            Marshal.Copy(bytes, 0, p, bytes.Length);
            owned.Add(p);
            return p;
        }

        internal static string Utf8(IntPtr p)
        {
            if (p == IntPtr.Zero) return null;
            int n = 0;
            while (Marshal.ReadByte(p, n) != 0) n++;
            var bytes = new byte[n];
            Marshal.Copy(p, bytes, 0, n);
            return Encoding.UTF8.GetString(bytes);
        }

        private static Prediction Convert(FacelessPrediction p)
        {
            int n = checked((int)p.count.ToUInt64());
            var probs = new float[n];
            if (n > 0) Marshal.Copy(p.probs, probs, 0, n);
            var labels = new string[n];
            for (int i = 0; i < n; i++) labels[i] = Utf8(Marshal.ReadIntPtr(p.labels, i * IntPtr.Size));
            return new Prediction { Index = p.index, Label = Utf8(p.label), Prob = p.prob, Probs = probs, Labels = labels };
        }

        /// <summary>Copies a native result into managed objects and frees it.</summary>
        internal static Analysis Take(IntPtr result)
        {
            try
            {
                return CopyResult(result);
            }
            finally
            {
                faceless_result_free(result);
            }
        }

        /// <summary>Copies a native result into managed objects; never frees it.
        /// A field so the tests can make the copy fail.</summary>
        internal static Func<IntPtr, Analysis> CopyResult = Copy;

        private static Analysis Copy(IntPtr result)
        {
            var r = Marshal.PtrToStructure<FacelessResult>(result);
            int n = checked((int)r.face_count.ToUInt64());
            int size = Marshal.SizeOf<FacelessFace>();
            var faces = new List<Face>(n);
            for (int i = 0; i < n; i++)
            {
                var f = Marshal.PtrToStructure<FacelessFace>(r.faces + i * size);
                faces.Add(new Face
                {
                    Id = (int)f.id,
                    Box = new[] { f.x1, f.y1, f.x2, f.y2 },
                    Score = f.score,
                    Landmarks = new[]
                    {
                        new[] { f.l0x, f.l0y }, new[] { f.l1x, f.l1y }, new[] { f.l2x, f.l2y },
                        new[] { f.l3x, f.l3y }, new[] { f.l4x, f.l4y },
                    },
                    AgeYears = f.age_years,
                    AgeGroup = Convert(f.age_group),
                    Gender = Convert(f.gender),
                    Ethnicity = Convert(f.ethnicity),
                });
            }
            return new Analysis { Width = (int)r.width, Height = (int)r.height, Faces = faces };
        }
    }
}

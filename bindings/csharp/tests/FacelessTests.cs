// Tests of the C# binding, runnable with Mono:
//   mcs -out:FacelessTests.exe ../Faceless.cs FacelessTests.cs && mono FacelessTests.exe [DATA_DIR]
// Prints one line per test and a closing "N passed, M failed"; exits 1 on failure.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Faceless;

internal static class FacelessTests
{
    private static int passed, failed;
    private static string dataDir = "tests/data";
    private static Pipeline pipeline;

    private static string Data(string name) => Path.Combine(dataDir, name);

    private static void Check(bool cond, string what)
    {
        if (cond) passed++;
        else
        {
            failed++;
            Console.Error.WriteLine("  FAIL: " + what);
        }
    }

    private static void Throws(Status expected, Action action, string what)
    {
        try
        {
            action();
            Check(false, what + ": no exception, expected " + expected);
        }
        catch (FacelessException e)
        {
            Check(e.Status == expected, what + ": got " + e.Status + " (" + e.Message + "), expected " + expected);
            Check(!string.IsNullOrEmpty(e.Message), what + ": empty message");
        }
    }

    private static void Run(string name, Action test)
    {
        int before = failed;
        try { test(); }
        catch (Exception e)
        {
            failed++;
            Console.Error.WriteLine("  FAIL: unexpected " + e.GetType().Name + ": " + e.Message);
        }
        Console.WriteLine((failed == before ? "ok   " : "FAIL ") + name);
    }

    private static void CheckPrediction(Prediction p, int n, string what)
    {
        Check(p.Probs.Length == n && p.Labels.Length == n, what + ": class count");
        Check(Math.Abs(p.Probs.Sum() - 1.0) < 1e-3, what + ": probabilities sum to 1");
        Check(p.Index >= 0 && p.Index < n && p.Label == p.Labels[p.Index] && p.Prob == p.Probs[p.Index],
            what + ": label/prob match the index");
    }

    /// <summary>Checks that enum T and the header's constants matching
    /// pattern (name, value) are the same set; NULL_POINTER is NullPointer.</summary>
    private static void CheckEnum<T>(string header, string pattern, string strip) where T : struct
    {
        var fromHeader = new Dictionary<string, int>();
        foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(header, pattern))
        {
            var words = m.Groups[1].Value.Substring(m.Groups[1].Value.StartsWith(strip) ? strip.Length : 0)
                .ToLowerInvariant().Split('_');
            var name = string.Concat(words.Select(w => w.Length == 0 ? w : char.ToUpperInvariant(w[0]) + w.Substring(1)));
            fromHeader[name] = int.Parse(m.Groups[2].Value);
        }
        var fromCs = Enum.GetNames(typeof(T)).ToDictionary(n => n, n => System.Convert.ToInt32(Enum.Parse(typeof(T), n)));
        Check(fromHeader.Count > 0, typeof(T).Name + ": constants found in the header");
        foreach (var kv in fromHeader)
            Check(fromCs.TryGetValue(kv.Key, out int v) && v == kv.Value,
                typeof(T).Name + "." + kv.Key + " = " + kv.Value + " as in the header");
        foreach (var kv in fromCs)
            Check(fromHeader.ContainsKey(kv.Key), typeof(T).Name + "." + kv.Key + " is in the header");
    }

    private static byte[] BmpToBgr(out int w, out int h)
    {
        var bmp = File.ReadAllBytes(Data("astronaut.bmp"));
        int off = BitConverter.ToInt32(bmp, 10);
        w = BitConverter.ToInt32(bmp, 18);
        h = BitConverter.ToInt32(bmp, 22);
        int row = w * 3;
        var bgr = new byte[row * h];
        for (int y = 0; y < h; y++) Array.Copy(bmp, off + (h - 1 - y) * row, bgr, y * row, row);
        return bgr;
    }

    private static int Main(string[] args)
    {
        if (args.Length > 0) dataDir = args[0];
        Console.WriteLine("faceless " + Library.Version + ", ABI " + Library.LoadedAbiVersion);

        Run("version_and_status_strings", () =>
        {
            Check(Library.LoadedAbiVersion == Library.AbiVersion, "ABI version");
            Check(Library.StatusString(4).StartsWith("FACELESS_ERR_DECODE"), "status string");
            Check(Library.StatusString(1234) == "unknown status code", "unknown status");
        });

        Run("options_defaults", () =>
        {
            var o = new Options();
            Check(o.MinFaceSize == 20f && o.Thresholds[0] == 0.6f && o.MaxConcurrency == 0, "defaults");
            Check(o.Classifier == Classifier.Accurate, "accurate by default");
        });

        Run("bad_options", () =>
        {
            Throws(Status.InvalidArgument, () => new Pipeline(new Options { ExecutionProviders = "quantum" }), "quantum");
            Throws(Status.InvalidArgument, () => new Pipeline(new Options { IntraThreads = -2 }), "negative threads");
        });

        Run("create", () => { pipeline = new Pipeline(); });
        if (pipeline == null)
        {
            Console.WriteLine(passed + " passed, " + (failed + 1) + " failed");
            return 1;
        }

        Run("cuda_unavailable", () =>
            Throws(Status.ExecutionProviderUnavailable, () => new Pipeline(new Options { ExecutionProviders = "cuda" }), "cuda"));

        Run("fast_and_accurate_classifiers", () =>
        {
            foreach (var c in new[] { Classifier.Accurate, Classifier.Fast })
            {
                using (var p = new Pipeline(new Options { Classifier = c, MaxConcurrency = 1 }))
                {
                    var faces = p.AnalyzeFile(Data("astronaut.png")).Faces;
                    Check(faces.Count == 1, c + ": one face");
                    if (faces.Count == 1)
                    {
                        CheckPrediction(faces[0].Gender, 2, c + " gender");
                        CheckPrediction(faces[0].AgeGroup, 12, c + " age group");
                        CheckPrediction(faces[0].Ethnicity, 5, c + " ethnicity");
                    }
                }
            }
            // The value reaches the library, which refuses one it does not know.
            Throws(Status.InvalidArgument, () => new Pipeline(new Options { Classifier = (Classifier)2 }), "classifier 2");
            Check(System.Runtime.InteropServices.Marshal.SizeOf(typeof(Native.FacelessOptions)) == 64, "FacelessOptions is 64 bytes as in C");
        });

        Run("missing_model_dir", () =>
            Throws(Status.Model, () => new Pipeline(new Options { ModelDir = "/nonexistent" }), "model dir"));

        Run("astronaut_one_face", () =>
        {
            var a = pipeline.AnalyzeFile(Data("astronaut.png"));
            Check(a.Width == 512 && a.Height == 512, "size");
            Check(a.Faces.Count == 1, "one face, got " + a.Faces.Count);
            if (a.Faces.Count != 1) return;
            var f = a.Faces[0];
            Check(f.Id == 0 && f.Score > 0.9f && f.Box[0] < f.Box[2] && f.Landmarks.Length == 5, "face fields");
            CheckPrediction(f.AgeGroup, 12, "age group");
            CheckPrediction(f.Gender, 2, "gender");
            CheckPrediction(f.Ethnicity, 5, "ethnicity");
        });

        Run("cat_no_face", () => Check(pipeline.AnalyzeFile(Data("chelsea.png")).Faces.Count == 0, "no face"));

        Run("encoded_and_pixels", () =>
        {
            Check(pipeline.AnalyzeEncoded(File.ReadAllBytes(Data("astronaut.jpg"))).Faces.Count == 1, "encoded");
            var bgr = BmpToBgr(out int w, out int h);
            var px = pipeline.AnalyzePixels(bgr, w, h, w * 3, PixelFormat.Bgr);
            var file = pipeline.AnalyzeFile(Data("astronaut.bmp"));
            Check(px.Faces.Count == 1 && file.Faces.Count == 1 && px.Faces[0].Box.SequenceEqual(file.Faces[0].Box),
                "pixels equal the decoded BMP");
        });

        Run("errors", () =>
        {
            Throws(Status.Decode, () => pipeline.AnalyzeFile(Data("truncated.jpg")), "truncated file");
            Throws(Status.Decode, () => pipeline.AnalyzeEncoded(File.ReadAllBytes(Data("not_an_image.jpg"))), "text bytes");
            Throws(Status.Io, () => pipeline.AnalyzeFile(Data("missing.png")), "missing file");
            Throws(Status.InvalidArgument, () => pipeline.AnalyzeEncoded(new byte[0]), "empty bytes");
            var px = new byte[10 * 10 * 3];
            Throws(Status.InvalidArgument, () => pipeline.AnalyzePixels(px, 10, 10, 29, PixelFormat.Rgb), "short stride");
            Throws(Status.InvalidArgument, () => pipeline.AnalyzePixels(px, 10, 11, 30, PixelFormat.Rgb), "short buffer");
            Throws(Status.InvalidArgument, () => pipeline.AnalyzePixels(px, 0, 10, 30, PixelFormat.Rgb), "zero width");
            Throws(Status.InvalidArgument, () => pipeline.AnalyzePixels(px, 10, 10, 30, (PixelFormat)9), "bad format");
            Throws(Status.ImageTooLarge, () => pipeline.AnalyzePixels(px, 1 << 20, 1 << 20, 3 << 20, PixelFormat.Rgb), "absurd size");
        });

        Run("batch", () =>
        {
            var items = pipeline.AnalyzeBatch(new List<ImageInput>
            {
                ImageInput.File(Data("astronaut.png")),
                ImageInput.File(Data("chelsea.png")),
                ImageInput.Encoded(File.ReadAllBytes(Data("astronaut.jpg"))),
                ImageInput.Encoded(File.ReadAllBytes(Data("truncated.jpg"))),
            });
            Check(items.Length == 4, "4 items");
            Check(items[0].Status == Status.Ok && items[0].Analysis.Faces.Count == 1, "item 0");
            Check(items[1].Status == Status.Ok && items[1].Analysis.Faces.Count == 0, "item 1");
            Check(items[2].Status == Status.Ok && items[2].Analysis.Faces.Count == 1, "item 2");
            Check(items[3].Status == Status.Decode && items[3].Analysis == null, "item 3");
            Check(items[3].Message != null && items[3].Message.Contains("decode"), "item 3 message: " + items[3].Message);
            Check(items[0].Message == null, "no message for a success");
            Check(pipeline.AnalyzeBatch(new List<ImageInput>()).Length == 0, "empty batch");
            // Every image failing is still a call that ran: no exception.
            var bad = pipeline.AnalyzeBatch(new List<ImageInput> { new ImageInput { Kind = (ImageKind)9 } });
            Check(bad[0].Status == Status.InvalidArgument && bad[0].Message.Contains("image kind 9"), "bad kind");
        });

        Run("batch_copy_failure_frees_once", () =>
        {
            // A conversion that throws midway used to leave a freed result in
            // the array the finally block freed again (a double free aborts
            // the process under glibc). Now the library frees the outcomes,
            // once, whatever the copies do.
            var copy = Native.CopyResult;
            int calls = 0;
            Native.CopyResult = r =>
            {
                if (++calls == 2) throw new InvalidOperationException("copy failed");
                return copy(r);
            };
            try
            {
                var three = new List<ImageInput>
                {
                    ImageInput.File(Data("astronaut.png")),
                    ImageInput.File(Data("astronaut.png")),
                    ImageInput.File(Data("astronaut.png")),
                };
                for (int round = 0; round < 3; round++)
                {
                    calls = 0;
                    bool threw = false;
                    try { pipeline.AnalyzeBatch(three); }
                    catch (InvalidOperationException) { threw = true; }
                    Check(threw, "the copy's exception reaches the caller");
                }
            }
            finally
            {
                Native.CopyResult = copy;
            }
            Check(pipeline.AnalyzeBatch(new List<ImageInput> { ImageInput.File(Data("astronaut.png")) })[0]
                .Analysis.Faces.Count == 1, "the pipeline still works");
        });

        Run("constants_match_header", () =>
        {
            // The enums above are written by hand; the generated header is
            // the truth, so every constant must agree both ways.
            var header = File.ReadAllText(Path.Combine(dataDir, "..", "..", "include", "faceless.h"));
            CheckEnum<Status>(header, @"#define FACELESS_(OK|ERR_[A-Z0-9_]+) (-?\d+)", "ERR_");
            CheckEnum<PixelFormat>(header, @"FACELESS_PIXEL_FORMAT_([A-Z0-9_]+) = (\d+)", "");
            CheckEnum<ImageKind>(header, @"FACELESS_IMAGE_KIND_([A-Z0-9_]+) = (\d+)", "");
            CheckEnum<Classifier>(header, @"#define FACELESS_CLASSIFIER_([A-Z0-9_]+) (\d+)", "");
        });

        Run("classify_aligned", () =>
        {
            var chip = Enumerable.Repeat((byte)90, 80 * 80).ToArray();
            var a = pipeline.ClassifyAlignedPixels(chip, 80, 80, 80, PixelFormat.Gray8);
            Check(a.Faces.Count == 1 && a.Faces[0].Score == 1f && a.Faces[0].Box[2] == 80f, "chip face");
            CheckPrediction(a.Faces[0].Ethnicity, 5, "chip ethnicity");
            Check(pipeline.ClassifyAlignedEncoded(File.ReadAllBytes(Data("astronaut.jpg"))).Faces.Count == 1, "encoded chip");
        });

        Run("threads_share_one_pipeline", () =>
        {
            var reference = pipeline.AnalyzeFile(Data("astronaut.png")).Faces[0].Box;
            var results = new bool[4];
            Parallel.For(0, 4, i =>
            {
                var a = pipeline.AnalyzeFile(Data("astronaut.png"));
                results[i] = a.Faces.Count == 1 && a.Faces[0].Box.SequenceEqual(reference);
            });
            Check(results.All(r => r), "every thread found the same face");
        });

        Run("dispose", () =>
        {
            var p = new Pipeline(new Options { MaxConcurrency = 1 });
            p.Dispose();
            p.Dispose();
            try
            {
                p.AnalyzeFile(Data("astronaut.png"));
                Check(false, "no exception after Dispose");
            }
            catch (ObjectDisposedException)
            {
                Check(true, "");
            }
        });

        pipeline.Dispose();
        Console.WriteLine(passed + " passed, " + failed + " failed");
        return failed == 0 ? 0 : 1;
    }
}

// An application of the installed SDK's C# binding, built with mcs outside the
// repository by tools/test_install.sh and run with mono, without LD_LIBRARY_PATH.
using System;

class App
{
    static int Main(string[] args)
    {
        if (args.Length != 1)
        {
            Console.Error.WriteLine("usage: App.exe IMAGE");
            return 2;
        }
        using (var p = new Faceless.Pipeline())
        {
            var a = p.AnalyzeFile(args[0]);
            Console.Write("csharp: faceless {0}, {1} face(s)", Faceless.Library.Version, a.Faces.Count);
            if (a.Faces.Count > 0)
                Console.Write(", first: {0} {1:F2}, age {2:F0}", a.Faces[0].Gender.Label, a.Faces[0].Gender.Prob,
                    a.Faces[0].AgeYears);
            Console.WriteLine();
            return a.Faces.Count > 0 ? 0 : 1;
        }
    }
}

// An application of the installed SDK in its own Go module; tools/test_install.sh
// writes its go.mod (a replace directive pointing at PREFIX/share/faceless/bindings/go/faceless).
package main

import (
	"fmt"
	"os"

	"github.com/faceless-sdk/faceless/bindings/go/faceless"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: app IMAGE")
		os.Exit(2)
	}
	p, err := faceless.New(nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer p.Close()
	a, err := p.AnalyzeFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("go: faceless %s, %d face(s)", faceless.Version(), len(a.Faces))
	if len(a.Faces) > 0 {
		f := a.Faces[0]
		fmt.Printf(", first: %s %.2f, age %.0f", f.Gender.Label, f.Gender.Prob, f.AgeYears)
	}
	fmt.Println()
	if len(a.Faces) == 0 {
		os.Exit(1)
	}
}

package faceless_test

import (
	"fmt"

	"github.com/faceless-sdk/faceless/bindings/go/faceless"
)

func Example() {
	p, err := faceless.New(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()
	a, err := p.AnalyzeFile("../../../tests/data/astronaut.png")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range a.Faces {
		fmt.Printf("face %d: %d age groups, %d genders, %d ethnicities\n",
			f.ID, len(f.AgeGroup.Probs), len(f.Gender.Probs), len(f.Ethnicity.Probs))
	}
	// Output: face 0: 12 age groups, 2 genders, 5 ethnicities
}

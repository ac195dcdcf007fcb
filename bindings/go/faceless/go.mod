module github.com/faceless-sdk/faceless/bindings/go/faceless

go 1.21

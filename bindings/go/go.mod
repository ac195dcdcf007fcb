module github.com/faceless-sdk/faceless/bindings/go

go 1.21

package testserver

import (
	"crypto/rand"
	"math/big"
)

func randDigits() string {
	n, err := rand.Int(rand.Reader, new(big.Int).Exp(big.NewInt(10), big.NewInt(30), nil))
	if err != nil {
		panic(err)
	}
	s := n.String()
	for len(s) < 30 {
		s = "0" + s
	}
	return "1" + s
}

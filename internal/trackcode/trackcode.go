// Package trackcode is the tracking code: parsing and checking S10 codes
// (two letters, eight serial digits, a check digit, two letters) and
// finding them in the free text people send. It knows no provider; the
// bot reads codes with it without linking any provider client.
package trackcode

import (
	"errors"
	"strings"
)

// An S10 code is two letters, eight serial digits, a check digit and two
// letters (the origin country): QQ850419295BR.
const Len = 13

// Errors of Parse.
var (
	ErrFormat     = errors.New("not a tracking code")
	ErrCheckDigit = errors.New("tracking code check digit does not match")
)

var s10Weights = [8]int{8, 6, 4, 2, 3, 5, 9, 7}

// Parse normalises s (trims spaces, upper-cases) and checks it is a
// well-formed S10 code with the right check digit.
func Parse(s string) (string, error) {
	c := strings.ToUpper(strings.TrimSpace(s))
	if !looksLikeCode(c) {
		return "", ErrFormat
	}
	if CheckDigit(c[2:10]) != int(c[10]-'0') {
		return c, ErrCheckDigit
	}
	return c, nil
}

// looksLikeCode reports whether c matches ^[A-Z]{2}\d{9}[A-Z]{2}$.
func looksLikeCode(c string) bool {
	if len(c) != Len {
		return false
	}
	for i := 0; i < Len; i++ {
		b := c[i]
		letter := b >= 'A' && b <= 'Z'
		digit := b >= '0' && b <= '9'
		if (i < 2 || i >= 11) && !letter {
			return false
		}
		if i >= 2 && i < 11 && !digit {
			return false
		}
	}
	return true
}

// CheckDigit computes the S10 check digit of eight serial digits.
func CheckDigit(serial string) int {
	sum := 0
	for i := 0; i < 8 && i < len(serial); i++ {
		sum += int(serial[i]-'0') * s10Weights[i]
	}
	d := 11 - sum%11
	switch d {
	case 10:
		return 0
	case 11:
		return 5
	}
	return d
}

// Valid reports whether s is a valid S10 code once normalised.
func Valid(s string) bool {
	_, err := Parse(s)
	return err == nil
}

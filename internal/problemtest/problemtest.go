// Package problemtest helps tests check that an error answer
// (application/problem+json) tells the client nothing of our internals.
package problemtest

import "strings"

// Leaked returns the words (case-insensitive) that body holds outside
// instance, the problem's instance member: the instance echoes the
// request's own path, and a random ID in it may spell one of the words
// ("apr_c7hhkoxaxsqln6fo62vl" holds "sql"), which failed tests that
// searched the whole body.
func Leaked(body []byte, instance string, words ...string) []string {
	text := string(body)
	if instance != "" {
		text = strings.ReplaceAll(text, instance, "")
	}
	text = strings.ToLower(text)
	var out []string
	for _, w := range words {
		if strings.Contains(text, strings.ToLower(w)) {
			out = append(out, w)
		}
	}
	return out
}

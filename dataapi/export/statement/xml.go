package statement

import "bufio"

// WriteEscaped writes s as XML character data (also safe in attributes),
// dropping characters XML 1.0 forbids.
func WriteEscaped(w *bufio.Writer, s string) { writeEscaped(w, s, true) }

// WriteText writes s as character data escaping only & < > (what OFX 1.x
// SGML knows; also valid XML text), dropping forbidden control characters.
func WriteText(w *bufio.Writer, s string) { writeEscaped(w, s, false) }

// writeEscaped escapes & < > (and quotes when quotes is set) and turns
// control characters XML forbids into spaces, copying runs of plain bytes.
func writeEscaped(w *bufio.Writer, s string, quotes bool) {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch c := s[i]; {
		case c == '&':
			esc = "&amp;"
		case c == '<':
			esc = "&lt;"
		case c == '>':
			esc = "&gt;"
		case c == '"' && quotes:
			esc = "&quot;"
		case c == '\'' && quotes:
			esc = "&apos;"
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r':
			esc = " "
		default:
			continue
		}
		w.WriteString(s[last:i])
		w.WriteString(esc)
		last = i + 1
	}
	w.WriteString(s[last:])
}

// Elem writes <name>escaped text</name>.
func Elem(w *bufio.Writer, name, text string) {
	w.WriteByte('<')
	w.WriteString(name)
	w.WriteByte('>')
	WriteEscaped(w, text)
	w.WriteString("</")
	w.WriteString(name)
	w.WriteByte('>')
}

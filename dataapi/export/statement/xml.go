package statement

import "bufio"

// WriteEscaped writes s as XML character data (also safe in attributes),
// dropping characters XML 1.0 forbids.
func WriteEscaped(w *bufio.Writer, s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch c := s[i]; c {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '"':
			esc = "&quot;"
		case '\'':
			esc = "&apos;"
		default:
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				esc = " "
			} else {
				continue
			}
		}
		w.WriteString(s[last:i])
		w.WriteString(esc)
		last = i + 1
	}
	w.WriteString(s[last:])
}

// WriteText writes s as character data escaping only & < > (what OFX 1.x
// SGML knows; also valid XML text), dropping forbidden control characters.
func WriteText(w *bufio.Writer, s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch c := s[i]; c {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		default:
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				esc = " "
			} else {
				continue
			}
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

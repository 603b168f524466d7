// Package mt940 writes a statement.Document as a SWIFT MT940 customer
// statement message (:20:, :25:, :28C:, :60F:, :61:/:86: per posted entry,
// :62F:, :64:), in the SWIFT X character set (accents transliterated, other
// characters replaced; "_" in identifiers becomes "-") with CRLF line ends
// and field lengths enforced (:86: at most 6 lines of 65).
//
// The statement is one message (files for ERP import are not split at the
// SWIFT network's 2,000-character limit). It streams entries into a
// bufio.Writer; statement.Prove must have passed first.
package mt940

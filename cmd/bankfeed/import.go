package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/bankfeed/bankfeed/config"
	"github.com/bankfeed/bankfeed/ops/importer"
	"github.com/bankfeed/bankfeed/store/gormstore"
)

func (a *app) importCommand() *cobra.Command {
	var (
		format    string
		batchSize int
	)
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Import the core system's transactions from a JSON lines or CSV file",
		Long: `Import transactions from FILE with the rules of POST /ops/v1/transactions:
idempotent by (accountId, externalId), so importing a file again changes
nothing. JSON lines hold one transaction object per line; CSV has a header row
naming its columns:
  ` + strings.Join(importer.Columns, ", ") + `
(accountId, externalId, status, amount and debitCreditMemo are required).

A bad row stops nothing else: it is reported with its line number and nothing
of it is written. Progress goes to stderr (a bar on a terminal), the summary to
stdout. The exit status is 1 if any row failed.`,
		Example: `  bankfeed import transactions.jsonl
  bankfeed import export.txt --format csv --batch-size 1000`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var opts importer.Options
			switch strings.ToLower(format) {
			case "":
			case "jsonl", "json", "ndjson":
				opts.Format = importer.FormatJSONLines
			case "csv":
				opts.Format = importer.FormatCSV
			default:
				return fmt.Errorf("import: --format %q: use jsonl or csv", format)
			}
			if batchSize < 0 {
				return fmt.Errorf("import: --batch-size must not be negative")
			}
			opts.BatchSize = batchSize
			path := args[0]
			if _, err := os.Stat(path); err != nil {
				return fmt.Errorf("import: %w", err)
			}
			return a.withStore(cmd, func(ctx context.Context, _ config.Config, st *gormstore.Store, logger *slog.Logger) error {
				pp := newProgressPrinter(a.stderr)
				opts.Progress = pp.update
				sum, err := importer.ImportFile(ctx, st, path, opts)
				pp.done()
				printSummary(cmd.OutOrStdout(), path, sum)
				if err != nil {
					return fmt.Errorf("import stopped after line %d: %w", sum.Lines, err)
				}
				logger.InfoContext(ctx, "import finished", "file", path, "created", sum.Created,
					"replayed", sum.Replayed, "failed", sum.Failed, "duration", sum.Duration.Round(time.Millisecond).String())
				if sum.Failed > 0 {
					return fmt.Errorf("import: %d row(s) of %s failed (listed above); the other rows were imported", sum.Failed, path)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&format, "format", "", "jsonl or csv (default: by extension, .csv is CSV, anything else JSON lines)")
	cmd.Flags().IntVar(&batchSize, "batch-size", 0, "rows per all-or-nothing batch (default 500)")
	return cmd
}

func printSummary(w io.Writer, path string, s importer.Summary) {
	fmt.Fprintf(w, "%s: %d line(s), %d created, %d replayed, %d failed in %s\n",
		path, s.Lines, s.Created, s.Replayed, s.Failed, s.Duration.Round(time.Millisecond))
	for _, e := range s.Errors {
		fmt.Fprintf(w, "  line %d: %s\n", e.Line, e.Message)
	}
}

// progressPrinter shows an import's progress on w: a bar redrawn in place
// when w is a terminal, otherwise a plain line every interval so logs and CI
// output stay readable.
type progressPrinter struct {
	w        io.Writer
	tty      bool
	interval time.Duration
	now      func() time.Time
	last     time.Time
	drawn    bool // a bar line is on screen and needs its newline
	seen     importer.Progress
}

func newProgressPrinter(w io.Writer) *progressPrinter {
	p := &progressPrinter{w: w, interval: 5 * time.Second, now: time.Now}
	// go-isatty asks the terminal driver (ioctl), so a file or a pipe is
	// never mistaken for a terminal.
	if f, ok := w.(*os.File); ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())) {
		p.tty, p.interval = true, 100*time.Millisecond
	}
	p.last = p.now()
	return p
}

func (p *progressPrinter) update(pr importer.Progress) {
	p.seen = pr
	if now := p.now(); now.Sub(p.last) >= p.interval {
		p.last = now
		p.print(pr)
	}
}

// done draws the final state of the bar and ends its line; plain output
// needs nothing more, the summary follows.
func (p *progressPrinter) done() {
	if p.tty {
		p.print(p.seen)
	}
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

func (p *progressPrinter) print(pr importer.Progress) {
	counts := fmt.Sprintf("%d lines, %d created, %d replayed, %d failed", pr.Lines, pr.Created, pr.Replayed, pr.Failed)
	if !p.tty {
		if pr.TotalBytes > 0 {
			fmt.Fprintf(p.w, "import: %d%%, %s\n", percent(pr), counts)
		} else {
			fmt.Fprintf(p.w, "import: %s\n", counts)
		}
		return
	}
	const width = 30
	bar := strings.Repeat("-", width)
	pct := ""
	if pr.TotalBytes > 0 {
		n := percent(pr) * width / 100
		bar = strings.Repeat("#", n) + strings.Repeat("-", width-n)
		pct = fmt.Sprintf(" %3d%%", percent(pr))
	}
	// \r returns to the line start, \x1b[K clears what a longer line left.
	fmt.Fprintf(p.w, "\r[%s]%s %s\x1b[K", bar, pct, counts)
	p.drawn = true
}

func percent(pr importer.Progress) int {
	if pr.TotalBytes <= 0 {
		return 0
	}
	return int(min(100, pr.BytesRead*100/pr.TotalBytes))
}

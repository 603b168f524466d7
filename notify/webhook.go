package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bankfeed/bankfeed/store"
)

// Webhook POSTs webhook deliveries to URL, signed with the Standard
// Webhooks scheme: webhook-id is the delivery's ID (the same on every
// attempt, so receivers can drop duplicates), webhook-timestamp this
// attempt's time.
type Webhook struct {
	URL    string
	Signer *Signer
	Client *http.Client     // default: a 10-second timeout
	Now    func() time.Time // default time.Now
}

// Send makes one attempt; any answer but 2xx is an error.
func (w *Webhook) Send(ctx context.Context, d store.Delivery) error {
	if !json.Valid(d.Payload) {
		return Permanent(fmt.Errorf("notify: webhook %s: payload is not JSON", d.ID))
	}
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	ts := now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(d.Payload))
	if err != nil {
		return fmt.Errorf("notify: webhook %s: %w", d.ID, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "bankfeed-webhooks")
	req.Header.Set(HeaderID, d.ID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(HeaderSignature, w.Signer.Sign(d.ID, ts, d.Payload))
	cli := w.Client
	if cli == nil {
		cli = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := cli.Do(req)
	if err != nil {
		// Not the *url.Error itself: it quotes the URL, which may carry the
		// receiver's credentials, into logs and the outbox.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("notify: webhook %s: %w", d.ID, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("notify: webhook %s: answered %s", d.ID, strings.TrimSpace(resp.Status))
	}
	return nil
}

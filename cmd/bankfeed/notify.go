package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/bankfeed/bankfeed/admin"
	"github.com/bankfeed/bankfeed/config"
	"github.com/bankfeed/bankfeed/metrics"
	"github.com/bankfeed/bankfeed/notify"
	"github.com/bankfeed/bankfeed/store"
)

// newOutbox is the administration's outbox for the configured channels;
// nil (no deliveries queued) when neither a webhook nor SMTP is set.
func newOutbox(n config.Notifications, st store.Store) admin.Outbox {
	if n.WebhookURL == "" && n.SMTPAddr == "" {
		return nil
	}
	return &notify.Outbox{Store: st, Webhook: n.WebhookURL != "", Email: n.SMTPAddr != ""}
}

// startDeliveries runs the outbox worker of this replica until the returned
// stop, which waits for it. With no channel configured it runs nothing.
func startDeliveries(ctx context.Context, n config.Notifications, st store.Store, logger *slog.Logger, m *metrics.Metrics) (stop func(), err error) {
	senders := map[store.Channel]notify.Sender{}
	if n.WebhookURL != "" {
		signer, err := notify.NewSigner(n.WebhookSecret)
		if err != nil {
			return nil, fmt.Errorf("notifications: %w", err)
		}
		senders[store.ChannelWebhook] = &notify.Webhook{URL: n.WebhookURL, Signer: signer}
	}
	if n.SMTPAddr != "" {
		e := &notify.Email{Addr: n.SMTPAddr, From: n.SMTPFrom, Username: n.SMTPUsername, Password: n.SMTPPassword, TLS: n.SMTPTLS}
		if err := e.Check(); err != nil {
			return nil, fmt.Errorf("notifications: %w", err)
		}
		senders[store.ChannelEmail] = e
	}
	if len(senders) == 0 {
		return func() {}, nil
	}
	w, err := notify.NewWorker(notify.Config{
		Store: st, Senders: senders, Logger: logger,
		MaxAttempts: n.MaxAttempts, RetryInitial: n.RetryInitial, RetryMax: n.RetryMax,
		Observe: func(ch store.Channel, outcome string) {
			count := m.WebhookDelivery
			if ch == store.ChannelEmail {
				count = m.EmailDelivery
			}
			switch outcome {
			case notify.OutcomeDelivered:
				count(metrics.WebhookDelivered)
			case notify.OutcomeRetry:
				count(metrics.WebhookRetry)
			case notify.OutcomeDead:
				count(metrics.WebhookFailed)
			}
		},
	})
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { w.Run(wctx) })
	return func() { cancel(); wg.Wait() }, nil
}

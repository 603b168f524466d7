// Package notify delivers the administration's notifications outside the
// API, at least once: Outbox turns a notification into deliveries (a
// Standard Webhooks message to the bank's webhook, an e-mail to the
// recipient) written in the transaction that creates it, and Worker sends
// the outbox's due deliveries, retrying failures with exponential backoff
// and jitter until they are delivered or dead. Workers on every replica
// share one outbox: a delivery is leased to one worker at a time.
//
// It holds no secrets in what it stores or logs: the webhook secret and the
// SMTP password live in the senders only; payloads carry notification text
// and IDs, never tokens or passwords.
package notify

package main

import (
	"encoding/json"
	"errors"
	"strconv"
	"time"
)

// probeRecord is shaped like what the servers encode and decode on every
// request (a stored token request: strings, numbers, a list, a map).
type probeRecord struct {
	ID        string            `json:"id"`
	ClientID  string            `json:"client_id"`
	Subject   string            `json:"subject"`
	Scopes    []string          `json:"scopes"`
	Claims    map[string]string `json:"claims"`
	IssuedAt  int64             `json:"iat"`
	ExpiresAt int64             `json:"exp"`
	Active    bool              `json:"active"`
}

// probeWork is one iteration of the box-speed probe: a record built,
// encoded, decoded and checked. It returns false when the round trip did
// not give the record back (it never should: the check keeps the work
// from being optimised away).
func probeWork(i int) bool {
	n := strconv.Itoa(i)
	r := probeRecord{ID: "req_" + n, ClientID: "client-" + n, Subject: "usr_" + n,
		Scopes: []string{"openid", "offline_access", "fdx:accountbasic:read", "fdx:transactions:read"},
		Claims: make(map[string]string, 8), IssuedAt: int64(i), ExpiresAt: int64(i) + 3600, Active: i%2 == 0}
	for k := range 8 {
		r.Claims["claim"+strconv.Itoa(k)] = n
	}
	data, err := json.Marshal(r)
	if err != nil {
		return false
	}
	var back probeRecord
	if err := json.Unmarshal(data, &back); err != nil {
		return false
	}
	return back.ID == r.ID && back.ExpiresAt == r.ExpiresAt && len(back.Claims) == len(r.Claims)
}

// boxSpeed runs probeWork on one goroutine in nine slices of d/9 and
// returns the median slice's rate in iterations per second. Taken while
// both servers idle, it says how fast this machine ran Go code in those
// seconds: a shared virtual machine's speed moves with its neighbours (the
// same binary introspected 15,254/s one evening at 21:43 and 9,756/s at
// 22:00; on an idle box this probe's one-second readings ranged 70,596 to
// 102,857 within eight seconds), and with it every absolute rate and
// latency of a run. The ratios beside Hydra, measured in the same minutes,
// need no such reading; the absolute targets (refresh p99, the data API's
// p99) do. The median leaves out a moment's interference.
func boxSpeed(d time.Duration) (float64, error) {
	rates := make([]float64, 0, 9)
	for range 9 {
		start, n := time.Now(), 0
		for time.Since(start) < d/9 {
			for range 64 {
				if !probeWork(n) {
					return 0, errProbe
				}
				n++
			}
		}
		rates = append(rates, float64(n)/time.Since(start).Seconds())
	}
	return median(rates), nil
}

var errProbe = errors.New("box-speed probe: a record did not survive its JSON round trip")

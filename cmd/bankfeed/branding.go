package main

import (
	_ "embed"
	"fmt"

	"github.com/bankfeed/bankfeed/config"
	"github.com/bankfeed/bankfeed/internal/branding"
)

// demoLogo is the fictional demo bank's logo.
//
//go:embed demo_logo.svg
var demoLogo []byte

// The demo's fictional bank (serve --demo without branding.bank_name): the
// pages show a brand as a real bank's would, and no real bank's.
const (
	demoBankName     = "Boreal Bank"
	demoPrimaryColor = "#0a5c36"
	demoSupportURL   = "https://bank.example/help"
	demoSupportPhone = "+1 800 555-0100"
)

// branding is the bank's brand on its pages: configuration branding.*, or
// under --demo with no bank name configured, the demo bank's.
func bankBranding(cfg config.Config) (branding.Branding, error) {
	b := cfg.Branding
	demo := cfg.Demo && b.BankName == "" && b.Logo == ""
	if demo {
		b = config.Branding{BankName: demoBankName, PrimaryColor: demoPrimaryColor, SupportURL: demoSupportURL, SupportPhone: demoSupportPhone}
	}
	brand, err := branding.New(b.BankName, b.Logo, b.PrimaryColor, b.SupportURL, b.SupportPhone)
	if err != nil {
		return brand, fmt.Errorf("branding: %w", err)
	}
	if demo {
		brand = brand.WithLogo(demoLogo, "image/svg+xml")
	}
	return brand, nil
}

// Package guidecheck holds no code: its tests check the user guide in docs/
// and the README — every relative link points to a file that exists and
// every #anchor to a heading of the linked Markdown file — so that the guide
// cannot rot as files move.
package guidecheck

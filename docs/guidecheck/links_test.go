package guidecheck

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// root is the repository root, relative to this package.
const root = "../.."

// linkRE matches Markdown links and images: [text](target) and ![alt](target).
var linkRE = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// headingRE matches ATX headings.
var headingRE = regexp.MustCompile(`(?m)^#{1,6}\s+(.+?)\s*#*\s*$`)

// slug is GitHub's anchor for a heading: lower case, punctuation dropped
// (letters, digits, '-', '_' and spaces kept), spaces turned into '-'.
func slug(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// anchors returns the anchors of a Markdown file's headings, outside code blocks.
func anchors(md string) map[string]bool {
	out := map[string]bool{}
	for _, m := range headingRE.FindAllStringSubmatch(stripCode(md), -1) {
		out[slug(m[1])] = true
	}
	return out
}

// stripCode blanks fenced code blocks, so that `# comments` in shell
// examples are not taken for headings nor their text for links.
func stripCode(md string) string {
	lines := strings.Split(md, "\n")
	in := false
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			in = !in
			lines[i] = ""
			continue
		}
		if in {
			lines[i] = ""
		}
	}
	return strings.Join(lines, "\n")
}

// guideFiles returns README.md and every Markdown file under docs/.
func guideFiles(t *testing.T) []string {
	t.Helper()
	files := []string{filepath.Join(root, "README.md")}
	err := filepath.WalkDir(filepath.Join(root, "docs"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".md") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatalf("walk docs: %v", err)
	}
	return files
}

// TestLinks checks every relative link of the guide.
func TestLinks(t *testing.T) {
	files := guideFiles(t)
	if len(files) < 5 {
		t.Fatalf("found %d Markdown files; want the README and the guide", len(files))
	}
	checked := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatalf("os.ReadFile(%q): %v", f, err)
		}
		for _, m := range linkRE.FindAllStringSubmatch(stripCode(string(data)), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, anchor, _ := strings.Cut(target, "#")
			dest := f
			if file != "" {
				dest = filepath.Join(filepath.Dir(f), file)
			}
			checked++
			st, err := os.Stat(dest)
			if err != nil {
				t.Errorf("%s: link %q: %s does not exist", f, target, dest)
				continue
			}
			if anchor == "" || st.IsDir() || !strings.HasSuffix(dest, ".md") {
				continue
			}
			md, err := os.ReadFile(dest)
			if err != nil {
				t.Fatalf("os.ReadFile(%q): %v", dest, err)
			}
			if !anchors(string(md))[anchor] {
				t.Errorf("%s: link %q: %s has no heading with anchor #%s", f, target, dest, anchor)
			}
		}
	}
	if checked < 20 {
		t.Errorf("checked %d relative links; want the guide's (≥ 20): is the link pattern broken?", checked)
	}
}

// TestSlug checks the anchor rule on headings the guide links to.
func TestSlug(t *testing.T) {
	for _, tc := range []struct{ heading, want string }{
		{"api: the modelled Compresr API", "api-the-modelled-compresr-api"}, // colon dropped
		{"1. Getting started", "1-getting-started"},                         // numbered section
		{"client and strategy", "client-and-strategy"},                      // plain words
		{"`summary.json`", "summaryjson"},                                   // code and dots dropped
		{"Live or simulated?", "live-or-simulated"},                         // question mark
	} {
		if got := slug(tc.heading); got != tc.want {
			t.Errorf("slug(%q) = %q; want %q", tc.heading, got, tc.want)
		}
	}
}

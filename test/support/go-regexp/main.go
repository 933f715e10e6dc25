// Go's own regexp package as the reference for logmon's RE2 dialect: the logio server
// matches its subscription parameters with regexp.MatchString, so this is what they mean.
//
// Input on stdin, one JSON object: {"patterns": [...], "lines": [...], "ranges": false}.
// Output on stdout, one JSON object: {"results": [[bool per line] or null per pattern], "errors": [string per pattern]};
// with "ranges": true, also "ranges": per pattern (null when refused), per line, every match of
// FindAllStringSubmatchIndex as [start, end, group 1 start, group 1 end] in UTF-16 code units
// (-1 where group 1 did not take part or the pattern has none).
package main

import (
	"encoding/json"
	"os"
	"regexp"
	"unicode/utf8"
)

type input struct {
	Patterns []string `json:"patterns"`
	Lines    []string `json:"lines"`
	Ranges   bool     `json:"ranges"`
}

type output struct {
	Results [][]bool     `json:"results"`
	Errors  []string     `json:"errors"`
	Ranges  [][][][4]int `json:"ranges,omitempty"`
}

// utf16Offsets maps each byte offset of s (and len(s)) to its offset in UTF-16 code units.
func utf16Offsets(s string) []int {
	out := make([]int, len(s)+1)
	units := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		for k := 0; k < size; k++ {
			out[i+k] = units
		}
		if r >= 0x10000 {
			units += 2
		} else {
			units++
		}
		i += size
	}
	out[len(s)] = units
	return out
}

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		os.Stderr.WriteString("go-regexp: " + err.Error() + "\n")
		os.Exit(2)
	}

	out := output{Results: make([][]bool, len(in.Patterns)), Errors: make([]string, len(in.Patterns))}
	if in.Ranges {
		out.Ranges = make([][][][4]int, len(in.Patterns))
	}
	for i, p := range in.Patterns {
		re, err := regexp.Compile(p)
		if err != nil {
			out.Errors[i] = err.Error()
			continue
		}

		row := make([]bool, len(in.Lines))
		for j, line := range in.Lines {
			row[j] = re.MatchString(line)
		}
		out.Results[i] = row
		if !in.Ranges {
			continue
		}

		found := make([][][4]int, len(in.Lines))
		for j, line := range in.Lines {
			at := utf16Offsets(line)
			found[j] = [][4]int{}
			for _, m := range re.FindAllStringSubmatchIndex(line, -1) {
				r := [4]int{at[m[0]], at[m[1]], -1, -1}
				if len(m) >= 4 && m[2] >= 0 {
					r[2], r[3] = at[m[2]], at[m[3]]
				}
				found[j] = append(found[j], r)
			}
		}
		out.Ranges[i] = found
	}

	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		os.Exit(2)
	}
}

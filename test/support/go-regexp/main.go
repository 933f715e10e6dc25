// Go's own regexp package as the reference for logmon's RE2 dialect: the logio server
// matches its subscription parameters with regexp.MatchString, so this is what they mean.
//
// Input on stdin, one JSON object: {"patterns": [...], "lines": [...]}.
// Output on stdout, one JSON object: {"results": [[bool per line] or null per pattern], "errors": [string per pattern]}.
package main

import (
	"encoding/json"
	"os"
	"regexp"
)

type input struct {
	Patterns []string `json:"patterns"`
	Lines    []string `json:"lines"`
}

type output struct {
	Results [][]bool `json:"results"`
	Errors  []string `json:"errors"`
}

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		os.Stderr.WriteString("go-regexp: " + err.Error() + "\n")
		os.Exit(2)
	}

	out := output{Results: make([][]bool, len(in.Patterns)), Errors: make([]string, len(in.Patterns))}
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
	}

	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		os.Exit(2)
	}
}

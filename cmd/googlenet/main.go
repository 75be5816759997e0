// Command googlenet is the command-line front end of the GoogLeNet module:
// one binary with subcommands (summary, train, ...). Each subcommand lives
// in its own file and registers itself in init; the logic lives in library
// packages.
//
// Usage:
//
//	googlenet <command> [flags]
//	googlenet help [command]
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
)

// command is one subcommand.
type command struct {
	Name    string
	Summary string // one line for the usage listing
	// Run executes the command with its arguments (without the command
	// name) and returns the exit code: 0 success, 1 failure, 2 usage error.
	// "-h" must print the command's usage and return 0 (flag.ErrHelp):
	// `googlenet help <command>` relies on it.
	Run func(args []string, stdout, stderr io.Writer) int
}

var commands = map[string]command{}

// register adds a subcommand; it panics on a duplicate or empty name (a
// programmer error caught at start-up).
func register(c command) {
	if c.Name == "" || c.Run == nil {
		panic("googlenet: register: command needs a name and a Run function")
	}
	if _, dup := commands[c.Name]; dup {
		panic("googlenet: register: duplicate command " + c.Name)
	}
	commands[c.Name] = c
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: googlenet <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, commands[n].Summary)
	}
	fmt.Fprintf(w, "  %-12s %s\n", "help", "show this list, or a command's flags: googlenet help <command>")
}

// run dispatches args (without the program name) and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(rest) == 0 {
			usage(stdout)
			return 0
		}
		c, ok := commands[rest[0]]
		if !ok {
			fmt.Fprintf(stderr, "googlenet: unknown command %q\n", rest[0])
			usage(stderr)
			return 2
		}
		// Every command prints its flags for -h and exits 0 through
		// flag.ErrHelp handling.
		return c.Run([]string{"-h"}, stdout, stdout)
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "googlenet: unknown command %q\n", name)
		usage(stderr)
		return 2
	}
	return c.Run(rest, stdout, stderr)
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// parseFlags parses a subcommand's arguments. When ok is false the command
// returns code at once: 0 after -h (the flag package printed the usage), 2
// after a bad flag (the flag package reported it).
func parseFlags(fs *flag.FlagSet, args []string) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	return 0, true
}

// usageErrorf reports a usage error of subcommand name on stderr, with a
// pointer to its help, and returns the exit status for usage errors (2).
func usageErrorf(stderr io.Writer, name, format string, a ...any) int {
	fmt.Fprintf(stderr, "googlenet "+name+": "+format+"\n", a...)
	fmt.Fprintf(stderr, "run 'googlenet help %s' for the flags\n", name)
	return 2
}

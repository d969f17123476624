"""FTM's command-line tools. Each main() returns an exit status; only the
console-script wrappers exit."""

// Package atomicfile writes files so that readers never see a partial file.
//
// # How
//
// WriteFile writes to a temporary file in the destination's directory,
// syncs it, and renames it over the destination. A rename within one
// directory is atomic on POSIX file systems, so the destination holds either
// its old contents or the complete new contents, never a mixture. On any
// error the temporary file is removed and the destination is untouched.
package atomicfile

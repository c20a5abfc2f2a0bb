# Write the manual page nst.1 from the program's own help, so that it lists
# every command and option as the binary has them:
#   cmake -DNST=build/nst -DOUT=build/nst.1 -DVERSION=0.3.0 -P manpage.cmake
# The help texts go in as preformatted blocks; the sections a manual needs
# beyond them (exit status, environment, files) are written here.

# roff: a backslash is \e, a line starting with . or ' would be a request,
# and - is \- (else groff prints a hyphen that a copied option lacks)
function(roff text out)
  string(REPLACE "\\" "\\e" text "${text}")
  string(REPLACE "-" "\\-" text "${text}")
  string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

function(help out)
  execute_process(COMMAND ${NST} ${ARGN} OUTPUT_VARIABLE text RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${NST} ${ARGN}: exit ${rc}")
  endif()
  roff("${text}" text)
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

help(main --help)
set(page ".TH NST 1 \"\" \"nst ${VERSION}\" \"User Commands\"
.SH NAME
nst \\- neural style transfer on the CPU: paint photos and videos in the style of paintings
.SH SYNOPSIS
.B nst
.I COMMAND
.RI [ OPTIONS ]
.br
.B nst \\-\\-version
.SH DESCRIPTION
.nf
${main}.fi
")
foreach(cmd stylize apply train video models serve)
  help(sub ${cmd} --help)
  string(APPEND page ".SH \"nst ${cmd}\"\n.nf\n${sub}.fi\n")
endforeach()
string(APPEND page ".SH EXIT STATUS
.TP
.B 0
success
.TP
.B 1
the work failed: a file could not be read or written, a file is damaged, memory ran out
.TP
.B 2
bad usage: an unknown or invalid option, or options this CPU cannot run (bf16 without
AVX512\\-BF16 or AMX)
.TP
.B 130
interrupted by Ctrl\\-C (nst stylize keeps the picture so far as OUTPUT_interrupted)
.SH ENVIRONMENT
.TP
.B NST_MODELS
colon\\-separated directories searched for models before the install directory
.TP
.B NST_HOME
the install directory is \\fB$NST_HOME/models\\fR
.TP
.B XDG_DATA_HOME
without NST_HOME, models install into \\fB$XDG_DATA_HOME/nst/models\\fR
(default \\fB~/.local/share/nst/models\\fR)
.TP
.B NST_MIRROR
a local mirror of the models (DIR/NAME/FILE) tried before their public origins
.TP
.B NST_TOKEN
the secret of \\fBnst serve \\-\\-token\\fR when no token file is given
.TP
.B OMP_NUM_THREADS
threads when \\fB\\-\\-threads\\fR is not given (default: all cores)
.TP
.B NO_COLOR, TERM
nst writes no colour; progress is a bar redrawn in place only when standard error is a
terminal and TERM is not \\fBdumb\\fR, else plain lines
.SH FILES
.TP
.B ~/.local/share/nst/models
installed models (see NST_HOME, XDG_DATA_HOME)
.TP
.B OUTPUT.part*
a temporary file beside each output while it is written; an output appears under its name
only when complete
.SH SEE ALSO
The README of nst, and its C library: \\fBnst.h\\fR, \\fBpkg\\-config \\-\\-libs nst\\fR.
")
file(WRITE "${OUT}.tmp" "${page}")
file(RENAME "${OUT}.tmp" "${OUT}")

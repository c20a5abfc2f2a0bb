# Turn a file into a C header holding its bytes, so the binary serves the
# page without reading the source tree:
#   cmake -DIN=page.html -DOUT=page_html.h -DNAME=page_html -P embed.cmake
file(READ "${IN}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" bytes "${bytes}")
file(WRITE "${OUT}.tmp" "/* generated from ${IN} by cmake/embed.cmake */\nstatic const unsigned char ${NAME}[] = {\n${bytes}};\n")
file(RENAME "${OUT}.tmp" "${OUT}")

# SPDX-License-Identifier: MIT
# cmake -DIN=file -DOUT=file.inc -P HetexEmbedText.cmake: writes the text of IN as a C++ raw
# string literal, for GLSL that is compiled at run time.
file(READ ${IN} text)
file(WRITE ${OUT} "R\"hetex_glsl(${text})hetex_glsl\"\n")

# Writes a C++ source that defines `extern const char* const NAME` holding a file's text.
# Usage: cmake -DINPUT=file -DOUTPUT=file.cpp -DSYMBOL=name -P EmbedText.cmake
file(READ ${INPUT} _text)
file(WRITE ${OUTPUT} "// Generated from ${INPUT}; do not edit.\nnamespace meshwork {\nextern const char* const ${SYMBOL};\nconst char* const ${SYMBOL} = R\"MESHWORK_EMBED(${_text})MESHWORK_EMBED\";\n}\n")

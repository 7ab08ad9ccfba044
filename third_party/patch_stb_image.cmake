# Makes a build-tree copy of Debian's stb_image.h 2.27 (libstb-dev 0.0~git20220908) whose JPEG
# decoder stops at the end of the entropy-coded data instead of reading past it. In 2.27 the bit
# readers (stbi__extend_receive, stbi__jpeg_get_bits, stbi__jpeg_get_bit) keep consuming bits
# after the stream has run out, so code_bits goes negative and the next refill shifts by more than
# 31 (undefined behaviour, found by tests/fuzz/fuzz_image); and stbi__jpeg_huff_decode indexes its
# tables with a symbol id it never bounds. Four insertions, each a check that returns what the
# caller already treats as "no more data" (0 bits) or "bad code" (-1); stb upstream added the same
# checks in 2.28. A fifth: an empty PNG IDAT chunk before any data made stbi__getn memcpy to
# NULL + 0 (undefined behaviour too); it is now skipped. A sixth: stbi__pnm_getinteger overflowed
# int on a long run of digits in a PNM header (undefined behaviour, fuzz_image); it now saturates
# at INT_MAX, a size mvk_image_decode refuses (upstream 2.28 fails the parse). mimovk compiles this copy (third_party/stb_image_impl.c) instead of using
# Debian's libstb for decoding.
# Usage: cmake -DIN=/usr/include/stb/stb_image.h -DOUT=<dir>/stb_image.h -P patch_stb_image.cmake
file(READ "${IN}" src)
set(n_bits "   if (j->code_bits < n) stbi__grow_buffer_unsafe(j);\n")
set(one_bit "   if (j->code_bits < 1) stbi__grow_buffer_unsafe(j);\n")
set(symbol "   c = ((j->code_buffer >> (32 - k)) & stbi__bmask[k]) + h->delta[k];\n")
set(idat "if (!stbi__getn(s, z->idata+ioff,c.length)) return")
set(pnm_int "      value = value*10 + (*c - '0');\n")
set(pnm_sat "      if (value > 214748364 || (value == 214748364 && *c > '7')) value = 2147483647; /* mimovk: saturate */\n      else value = value*10 + (*c - '0');\n")
# Each insertion must happen exactly as often as 2.27 has the line (2, 1 and 1 times): count them
# by the growth of the text (the lines hold ';', so CMake lists cannot count them).
set(add_n "   if (j->code_bits < n) return 0; /* mimovk: out of data */\n")
set(add_1 "   if (j->code_bits < 1) return 0; /* mimovk: out of data */\n")
set(add_c "   if (c < 0 || c >= 256) return -1; /* mimovk: symbol id out of range */\n")
string(LENGTH "${src}" l0)
string(REPLACE "${n_bits}" "${n_bits}${add_n}" src "${src}")
string(LENGTH "${src}" l1)
string(REPLACE "${one_bit}" "${one_bit}${add_1}" src "${src}")
string(LENGTH "${src}" l2)
string(REPLACE "${symbol}" "${symbol}${add_c}" src "${src}")
string(LENGTH "${src}" l3)
string(LENGTH "${add_n}" a_n)
string(LENGTH "${add_1}" a_1)
string(LENGTH "${add_c}" a_c)
string(REPLACE "${idat}" "if (c.length && !stbi__getn(s, z->idata+ioff,c.length)) return" src "${src}")
string(LENGTH "${src}" l4)
string(REPLACE "${pnm_int}" "${pnm_sat}" src "${src}")
string(LENGTH "${src}" l5)
string(LENGTH "${pnm_sat}" a_s)
string(LENGTH "${pnm_int}" a_i)
math(EXPR c1 "(${l1} - ${l0}) / ${a_n}")
math(EXPR c2 "(${l2} - ${l1}) / ${a_1}")
math(EXPR c3 "(${l3} - ${l2}) / ${a_c}")
math(EXPR c4 "(${l4} - ${l3}) / 12")
math(EXPR c5 "(${l5} - ${l4}) / (${a_s} - ${a_i})")
if(NOT c1 EQUAL 2 OR NOT c2 EQUAL 1 OR NOT c3 EQUAL 1 OR NOT c4 EQUAL 1 OR NOT c5 EQUAL 1)
  message(FATAL_ERROR "patch_stb_image: ${IN} is not the stb_image.h 2.27 this patch expects "
                      "(Debian libstb-dev 0.0~git20220908): ${c1}/${c2}/${c3}/${c4}/${c5} of 2/1/1/1/1 sites found")
endif()
file(WRITE "${OUT}.tmp" "${src}")
file(RENAME "${OUT}.tmp" "${OUT}")

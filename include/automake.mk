# include/ -- headers for users' filter programs (compiled with clang -target bpf).
include_HEADERS += include/oko_helpers.h include/oko_net.h

#!/usr/bin/env bash
# Stands in for the twampy binary in the integration scripts: runs it under
# valgrind memcheck, and any memory error or definite leak makes it exit 99,
# which the scripts report as an unexpected exit status.
exec valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
    --show-leak-kinds=definite "$TWAMPY_UNDER_VALGRIND" "$@"

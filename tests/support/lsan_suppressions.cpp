// LeakSanitizer (ASan builds): fontconfig keeps what it allocates while parsing the
// system's fonts.conf for the life of the process (libexpat callbacks in FcConfigParse).
// That is fontconfig's, not the renderer's; everything the renderer creates is freed.
extern "C" const char* __lsan_default_suppressions() { return "leak:libfontconfig.so\n"; }

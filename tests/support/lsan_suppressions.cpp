// LeakSanitizer (ASan builds), linked into every unit test exe: fontconfig keeps what it
// allocates while parsing the system's fonts.conf (libexpat callbacks in FcConfigParse)
// for the life of the process. That is fontconfig's, not ours; everything else still counts.
extern "C" const char* __lsan_default_suppressions() { return "leak:libfontconfig.so\n"; }

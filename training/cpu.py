"""What Linux reports of the CPU (/proc/cpuinfo), standard library only: the bench names it,
and int8 sessions are opened by whether it has VNNI (as src/runtime/mod.rs does)."""

# The int8 dot-product instructions, as /proc/cpuinfo flags and as the bench names them.
INT8_DOT_PRODUCT = (("avx512_vnni", "AVX-512 VNNI"), ("avx_vnni", "AVX-VNNI"), ("amx_int8", "AMX-INT8"))
VNNI = {"avx512_vnni", "avx_vnni"}


def field(key):
    """The first value of `key` in /proc/cpuinfo ("" where absent or unreadable)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            return next((line.split(":", 1)[1].strip() for line in f if line.startswith(key)), "")
    except OSError:
        return ""


def flags():
    """The x86 feature flags (empty elsewhere: ARM reports "Features")."""
    return set(field("flags").split())

// SPDX-License-Identifier: GPL-2.0-only
//
// What packerl-sim's interposed ns-3 methods share (sim/endpoint-index.cc,
// sim/tcp-socket-index.cc): how to reach ns-3's own definition of a method, and the two
// environment switches of the indexes.
#ifndef PACKERL_SIM_INTERPOSE_H
#define PACKERL_SIM_INTERPOSE_H

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>

namespace ns3::interpose
{

// ns-3's definition of the member function `mangled` (the next one after packerl-sim's own).
// In the Itanium C++ ABI a pointer to a non-virtual member function is {address, adjustment 0}.
template <typename Member>
Member
Original(const char* mangled)
{
    void* address = dlsym(RTLD_NEXT, mangled);
    if (address == nullptr)
    {
        std::fprintf(stderr, "packerl-sim: ns-3's %s is missing: %s\n", mangled, dlerror());
        std::abort();
    }
    struct
    {
        void* ptr;
        std::ptrdiff_t adj;
    } rep{address, 0};
    static_assert(sizeof(Member) == sizeof(rep));
    Member member;
    std::memcpy(&member, &rep, sizeof member);
    return member;
}

// an environment flag: set and not "0"
inline bool
Flag(const char* name, bool unset)
{
    const char* v = std::getenv(name);
    return v == nullptr ? unset : v[0] != '\0' && v[0] != '0';
}

// PACKERL_CHECK_DEMUX=1: every indexed operation also runs ns-3's full scan and aborts if the
// two disagree (the tests run TCP-heavy episodes that way)
inline bool
Checking()
{
    static const bool check = Flag("PACKERL_CHECK_DEMUX", false);
    return check;
}

// PACKERL_DEMUX_INDEX=0: ns-3's own scans over every endpoint and socket, as without the
// indexes (for benchmarks: experiments/bench_endpoint_index.py)
inline bool
Indexing()
{
    static const bool index = Flag("PACKERL_DEMUX_INDEX", true);
    return index;
}

[[noreturn]] inline void
Mismatch(const char* what)
{
    std::fprintf(stderr, "packerl-sim: the index and ns-3's full scan disagree: %s\n", what);
    std::abort();
}

} // namespace ns3::interpose

#endif

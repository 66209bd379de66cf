// SPDX-License-Identifier: GPL-2.0-only
#include "segment.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace packerl::bridge
{

namespace
{

[[noreturn]] void
ThrowErrno(const char* what)
{
    throw std::system_error(errno, std::generic_category(), what);
}

void*
MapFd(int fd, std::size_t size)
{
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
    {
        ThrowErrno("mmap of the shared-memory segment failed");
    }
    return p;
}

} // namespace

Segment::~Segment()
{
    Release();
}

Segment::Segment(Segment&& other) noexcept
{
    *this = std::move(other);
}

Segment&
Segment::operator=(Segment&& other) noexcept
{
    if (this != &other)
    {
        Release();
        m_base = std::exchange(other.m_base, nullptr);
        m_size = std::exchange(other.m_size, 0);
        m_fd = std::exchange(other.m_fd, -1);
        m_offsets = other.m_offsets;
    }
    return *this;
}

void
Segment::Release() noexcept
{
    if (m_base != nullptr)
    {
        munmap(m_base, m_size);
        m_base = nullptr;
    }
    if (m_fd >= 0)
    {
        close(m_fd);
        m_fd = -1;
    }
}

Segment
Segment::Create(const Capacity& capacity, const std::string& name)
{
    Offsets offsets = ComputeOffsets(capacity);
    int fd = shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, S_IRUSR | S_IWUSR);
    if (fd < 0)
    {
        ThrowErrno("shm_open failed");
    }
    // Unlink at once: the descriptor keeps the memory alive, and no name can outlive us.
    shm_unlink(name.c_str());
    if (fchmod(fd, S_IRUSR | S_IWUSR) != 0 || ftruncate(fd, static_cast<off_t>(offsets.total)) != 0)
    {
        int err = errno;
        close(fd);
        throw std::system_error(err, std::generic_category(), "sizing the segment failed");
    }
    Segment s;
    s.m_fd = fd;
    s.m_size = offsets.total;
    s.m_offsets = offsets;
    s.m_base = MapFd(fd, offsets.total);
    Header* h = s.header();
    std::memset(h, 0, sizeof(Header));
    std::memcpy(h->magic, kMagic.data(), kMagic.size());
    h->version = kLayoutVersion;
    h->headerBytes = sizeof(Header);
    h->segmentBytes = offsets.total;
    h->capacity = capacity;
    if (sem_init(&h->request, 1, 0) != 0 || sem_init(&h->response, 1, 0) != 0)
    {
        ThrowErrno("sem_init failed");
    }
    return s;
}

Segment
Segment::Attach(int fd)
{
    struct stat st{};
    if (fstat(fd, &st) != 0)
    {
        ThrowErrno("fstat of the segment descriptor failed");
    }
    auto size = static_cast<std::size_t>(st.st_size);
    if (size < sizeof(Header))
    {
        throw std::runtime_error("segment is smaller than its header");
    }
    Segment s;
    s.m_fd = fd;
    s.m_size = size;
    s.m_base = MapFd(fd, size);
    const Header* h = s.header();
    if (std::memcmp(h->magic, kMagic.data(), kMagic.size()) != 0 || h->version != kLayoutVersion ||
        h->headerBytes != sizeof(Header))
    {
        throw std::runtime_error("segment header has a wrong magic, version or header size");
    }
    s.m_offsets = ComputeOffsets(h->capacity);
    if (s.m_offsets.total != size || h->segmentBytes != size)
    {
        throw std::runtime_error("segment size does not match its capacity");
    }
    return s;
}

bool
TimedWait(sem_t* sem, double timeoutSeconds)
{
    timespec deadline{};
    clock_gettime(CLOCK_REALTIME, &deadline);
    double whole = std::floor(timeoutSeconds);
    deadline.tv_sec += static_cast<time_t>(whole);
    deadline.tv_nsec += static_cast<long>((timeoutSeconds - whole) * 1e9);
    if (deadline.tv_nsec >= 1000000000L)
    {
        deadline.tv_sec += 1;
        deadline.tv_nsec -= 1000000000L;
    }
    while (true)
    {
        if (sem_timedwait(sem, &deadline) == 0)
        {
            return true;
        }
        if (errno == EINTR)
        {
            continue;
        }
        if (errno == ETIMEDOUT)
        {
            return false;
        }
        ThrowErrno("sem_timedwait failed");
    }
}

void
Post(sem_t* sem)
{
    if (sem_post(sem) != 0)
    {
        ThrowErrno("sem_post failed");
    }
}

} // namespace packerl::bridge

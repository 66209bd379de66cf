// SPDX-License-Identifier: GPL-2.0-only
/**
 * @file
 * @brief Creating, mapping and waiting on the shared-memory segment described in layout.h.
 */
#ifndef PACKERL_BRIDGE_SEGMENT_H
#define PACKERL_BRIDGE_SEGMENT_H

#include "layout.h"

#include <cstddef>
#include <string>

namespace packerl::bridge
{

/**
 * @brief A mapped segment. Owns the mapping (and the descriptor, if it was given one to own).
 *
 * The client creates the segment with `Segment::Create`, which unlinks the name right after
 * `shm_open` so that nothing stays in `/dev/shm` whatever happens to either process; the
 * descriptor is inherited by the simulator, which maps it with `Segment::Attach`.
 */
class Segment
{
  public:
    Segment() = default;
    ~Segment();
    Segment(const Segment&) = delete;
    Segment& operator=(const Segment&) = delete;
    Segment(Segment&& other) noexcept;
    Segment& operator=(Segment&& other) noexcept;

    /**
     * @brief Create a new segment of the given capacity (mode 0600, unique name, unlinked).
     * @param capacity sizes of the arrays
     * @param name the name used for shm_open; must start with '/' and be unique
     * @return the mapped, initialised segment (header filled, semaphores initialised)
     * @throws std::system_error on any OS failure
     */
    static Segment Create(const Capacity& capacity, const std::string& name);

    /**
     * @brief Map a segment created by another process from an inherited descriptor.
     * @throws std::runtime_error if the header is not a valid layout of this version
     */
    static Segment Attach(int fd);

    Header* header() const
    {
        return reinterpret_cast<Header*>(m_base);
    }

    char* base() const
    {
        return static_cast<char*>(m_base);
    }

    std::size_t size() const
    {
        return m_size;
    }

    int fd() const
    {
        return m_fd;
    }

    const Offsets& offsets() const
    {
        return m_offsets;
    }

    template <typename T>
    T* at(std::size_t offset) const
    {
        return reinterpret_cast<T*>(base() + offset);
    }

  private:
    void Release() noexcept;

    void* m_base = nullptr;
    std::size_t m_size = 0;
    int m_fd = -1;
    Offsets m_offsets{};
};

/**
 * @brief Wait on a process-shared semaphore for at most `timeoutSeconds` (blocking, no spinning).
 * @return true if the semaphore was acquired, false on timeout
 * @throws std::system_error on any other failure
 */
bool TimedWait(sem_t* sem, double timeoutSeconds);

/// Post a semaphore. @throws std::system_error on failure
void Post(sem_t* sem);

} // namespace packerl::bridge

#endif // PACKERL_BRIDGE_SEGMENT_H

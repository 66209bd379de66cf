// SPDX-License-Identifier: GPL-2.0-only
/**
 * @file
 * @brief `packerl._bridge`: the Python side of the shared-memory bridge.
 *
 * Creates segments, exposes their arrays as NumPy views (whose base object keeps the mapping
 * alive, so a view can never outlive its memory), reads and writes header fields, and waits on
 * the response semaphore with the GIL released.
 */
#include "layout.h"
#include "segment.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <memory>
#include <system_error>
#include <string>
#include <vector>

namespace py = pybind11;
using namespace packerl::bridge;

namespace
{

struct ArraySpec
{
    const char* name;
    std::size_t Offsets::*offset;
    char kind; // numpy dtype character
    std::size_t itemBytes;
    std::size_t (*count)(const Capacity&);
};

const std::vector<ArraySpec>&
Specs()
{
    static const std::vector<ArraySpec> specs = {
        {"edge_nodes", &Offsets::edgeNodes, 'i', 4, [](const Capacity& c) { return 2 * std::size_t(c.maxEdges); }},
        {"edge_datarate", &Offsets::edgeDatarate, 'f', 8, [](const Capacity& c) { return std::size_t(c.maxEdges); }},
        {"edge_delay_ms", &Offsets::edgeDelayMs, 'f', 8, [](const Capacity& c) { return std::size_t(c.maxEdges); }},
        {"next_hop", &Offsets::nextHop, 'i', 4, [](const Capacity& c) { return std::size_t(c.maxNodes) * c.maxNodes; }},
        {"dem_time_ms", &Offsets::demTimeMs, 'f', 8, [](const Capacity& c) { return std::size_t(c.maxDemands); }},
        {"dem_src", &Offsets::demSrc, 'i', 4, [](const Capacity& c) { return std::size_t(c.maxDemands); }},
        {"dem_dst", &Offsets::demDst, 'i', 4, [](const Capacity& c) { return std::size_t(c.maxDemands); }},
        {"dem_bytes", &Offsets::demBytes, 'i', 8, [](const Capacity& c) { return std::size_t(c.maxDemands); }},
        {"dem_is_tcp", &Offsets::demIsTcp, 'u', 1, [](const Capacity& c) { return std::size_t(c.maxDemands); }},
        {"dem_rate_bps", &Offsets::demRateBps, 'f', 8, [](const Capacity& c) { return std::size_t(c.maxDemands); }},
        {"fail_time_ms", &Offsets::failTimeMs, 'f', 8, [](const Capacity& c) { return std::size_t(c.maxFailures); }},
        {"fail_edge", &Offsets::failEdge, 'i', 4, [](const Capacity& c) { return std::size_t(c.maxFailures); }},
        {"global", &Offsets::global, 'f', 8, [](const Capacity&) { return std::size_t(kNumGlobal); }},
        {"edge", &Offsets::edge, 'f', 8, [](const Capacity& c) { return 2 * std::size_t(c.maxEdges) * kNumEdge; }},
        {"node", &Offsets::node, 'f', 8, [](const Capacity& c) { return std::size_t(c.maxNodes) * kNumNode; }},
        {"tm_sent", &Offsets::tmSent, 'f', 8, [](const Capacity& c) { return std::size_t(c.maxNodes) * c.maxNodes; }},
        {"tm_received", &Offsets::tmReceived, 'f', 8, [](const Capacity& c) { return std::size_t(c.maxNodes) * c.maxNodes; }},
    };
    return specs;
}

py::dtype
DtypeOf(const ArraySpec& s)
{
    std::string code = "<";
    code += s.kind;
    code += std::to_string(s.itemBytes);
    return py::dtype(code);
}

/// Python-owned handle; the mapping lives as long as this object and every view made from it.
struct PySegment
{
    Segment seg;

    Header* h() const
    {
        if (!seg.header())
        {
            throw std::runtime_error("segment is closed");
        }
        return seg.header();
    }
};

std::vector<std::string>
Names(const auto& list)
{
    return std::vector<std::string>(list.begin(), list.end());
}

} // namespace

PYBIND11_MODULE(_bridge, m)
{
    m.doc() = "Shared-memory bridge between packerl and its ns-3 simulator process.";
    // OS failures become OSError with errno, so Python picks the subclass (FileExistsError...).
    py::register_exception_translator([](std::exception_ptr p) {
        try
        {
            if (p)
            {
                std::rethrow_exception(p);
            }
        }
        catch (const std::system_error& e)
        {
            py::object err = py::reinterpret_steal<py::object>(
                PyObject_CallFunction(PyExc_OSError, "is", e.code().value(), e.what()));
            PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(err.ptr())), err.ptr());
        }
    });
    m.attr("LAYOUT_VERSION") = kLayoutVersion;
    m.attr("GLOBAL_FEATURES") = py::tuple(py::cast(Names(kGlobalFeatures)));
    m.attr("EDGE_FEATURES") = py::tuple(py::cast(Names(kEdgeFeatures)));
    m.attr("NODE_FEATURES") = py::tuple(py::cast(Names(kNodeFeatures)));
    m.attr("CMD_RESET") = static_cast<uint32_t>(kCmdReset);
    m.attr("CMD_STEP") = static_cast<uint32_t>(kCmdStep);
    m.attr("CMD_CLOSE") = static_cast<uint32_t>(kCmdClose);
    m.attr("CMD_PING") = static_cast<uint32_t>(kCmdPing);
    m.attr("CMD_ADD_EVENTS") = static_cast<uint32_t>(kCmdAddEvents);
    m.attr("STATUS_OK") = static_cast<uint32_t>(kStatusOk);
    m.attr("STATUS_ERROR") = static_cast<uint32_t>(kStatusError);

    m.def(
        "segment_bytes",
        [](uint32_t n, uint32_t e, uint32_t d, uint32_t f) {
            return ComputeOffsets(Capacity{n, e, d, f}).total;
        },
        py::arg("max_nodes"), py::arg("max_edges"), py::arg("max_demands"),
        py::arg("max_failures"), "Size in bytes of a segment of this capacity.");

    py::class_<PySegment, std::shared_ptr<PySegment>>(m, "Segment")
        .def(py::init([](uint32_t n, uint32_t e, uint32_t d, uint32_t f, const std::string& name) {
                 auto s = std::make_shared<PySegment>();
                 s->seg = Segment::Create(Capacity{n, e, d, f}, name);
                 return s;
             }),
             py::arg("max_nodes"), py::arg("max_edges"), py::arg("max_demands"),
             py::arg("max_failures"), py::arg("name"),
             "Create a segment (mode 0600; the name is unlinked at once, the memory stays "
             "reachable through `fd` only).")
        .def_property_readonly("fd", [](const PySegment& s) { return s.seg.fd(); })
        .def_property_readonly("size", [](const PySegment& s) { return s.seg.size(); })
        .def_property_readonly("capacity", [](const PySegment& s) {
            const Capacity& c = s.h()->capacity;
            return py::make_tuple(c.maxNodes, c.maxEdges, c.maxDemands, c.maxFailures);
        })
        .def(
            "arrays",
            [](py::object self) {
                auto& s = self.cast<PySegment&>();
                const Capacity& c = s.h()->capacity;
                py::dict out;
                for (const ArraySpec& spec : Specs())
                {
                    std::size_t count = spec.count(c);
                    void* ptr = s.seg.base() + s.seg.offsets().*spec.offset;
                    out[spec.name] = py::array(DtypeOf(spec), {count}, {spec.itemBytes}, ptr,
                                               self);
                }
                return out;
            },
            "Dict of 1-D NumPy views over every array of the segment, at full capacity.")
        .def("post_request", [](PySegment& s) { Post(&s.h()->request); })
        .def(
            "wait_response",
            [](PySegment& s, double timeout) {
                Header* h = s.h();
                py::gil_scoped_release release;
                return TimedWait(&h->response, timeout);
            },
            py::arg("timeout"),
            "Block (GIL released, no spinning) until the simulator answers or `timeout` "
            "seconds pass; True if it answered.")
        .def(
            "corrupt_header_for_test",
            [](PySegment& s) { s.h()->version = 0xDEADBEEF; },
            "Overwrite the header version (fault-injection tests only).")
#define PACKERL_FIELD(pyname, member)                                                        \
    def_property(                                                                            \
        pyname, [](const PySegment& s) { return s.h()->member; },                            \
        [](PySegment& s, decltype(Header::member) v) { s.h()->member = v; })
        .PACKERL_FIELD("command", command)
        .PACKERL_FIELD("status", status)
        .PACKERL_FIELD("sequence", sequence)
        .PACKERL_FIELD("echoed", echoed)
        .PACKERL_FIELD("sim_pid", simPid)
        .PACKERL_FIELD("num_nodes", numNodes)
        .PACKERL_FIELD("num_edges", numEdges)
        .PACKERL_FIELD("tcp_segment_bytes", tcpSegmentBytes)
        .PACKERL_FIELD("seed", seed)
        .PACKERL_FIELD("step_ms", stepMs)
        .PACKERL_FIELD("queue_scale", queueScale)
        .PACKERL_FIELD("step_index", stepIndex)
        .PACKERL_FIELD("num_demands", numDemands)
        .PACKERL_FIELD("num_failures", numFailures)
        .PACKERL_FIELD("routing_changed", routingChanged)
        .PACKERL_FIELD("sim_time_ms", simTimeMs)
        .PACKERL_FIELD("event_count", eventCount)
#undef PACKERL_FIELD
        .def_property_readonly("magic_ok",
                               [](const PySegment& s) {
                                   return std::memcmp(s.h()->magic, kMagic.data(),
                                                      kMagic.size()) == 0 &&
                                          s.h()->version == kLayoutVersion;
                               })
        .def_property_readonly("error", [](const PySegment& s) {
            return std::string(s.h()->error, strnlen(s.h()->error, kErrorBytes));
        });
}

// SPDX-License-Identifier: GPL-2.0-only
/**
 * @file
 * @brief `packerl._bridge`: the Python side of the shared-memory bridge.
 *
 * Creates segments, exposes their arrays as NumPy views (whose base object keeps the mapping
 * alive, so a view can never outlive its memory), reads and writes header fields, and waits on
 * the response semaphore with the GIL released. Everything about the layout comes from the
 * tables in layout.h and is exported as `SPEC`; the module holds no fault-injection hooks.
 */
#include "layout.h"
#include "segment.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <memory>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

namespace py = pybind11;
using namespace packerl::bridge;

namespace
{

/// The NumPy dtype string ("<i4", "<f8", "|u1", ...) of a C++ element type.
template <typename T>
std::string
DtypeString()
{
    static_assert(std::is_arithmetic_v<T>, "segment arrays hold numbers only");
    std::string code = sizeof(T) == 1 ? "|" : "<";
    code += std::is_floating_point_v<T> ? 'f' : (std::is_signed_v<T> ? 'i' : 'u');
    code += std::to_string(sizeof(T));
    return code;
}

/// One row of `PACKERL_ARRAYS`, as the module needs it.
struct ArraySpec
{
    const char* name;
    Array id;
    std::size_t Offsets::*offset;
    std::string dtype;
    std::size_t itemBytes;
    const char* rows; //!< the rows expression, as written in layout.h
    const char* cols; //!< the columns expression
    const char* doc;
};

const std::vector<ArraySpec>&
Specs()
{
    static const std::vector<ArraySpec> specs = {
#define PACKERL_X(member, pyname, type, rows, cols, doc)                                        \
    {pyname, Array::member, &Offsets::member, DtypeString<type>(), sizeof(type), #rows, #cols, doc},
        PACKERL_ARRAYS(PACKERL_X)
#undef PACKERL_X
    };
    return specs;
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

py::tuple
Names(const auto& list)
{
    return py::tuple(py::cast(std::vector<std::string>(list.begin(), list.end())));
}

/// A feature table as a tuple of (name, doc) pairs.
template <std::size_t N>
py::tuple
FeatureRows(const std::array<std::string_view, N>& names,
            const std::array<std::string_view, N>& docs)
{
    py::list rows;
    for (std::size_t i = 0; i < N; ++i)
    {
        rows.append(py::make_tuple(std::string(names[i]), std::string(docs[i])));
    }
    return py::tuple(rows);
}

const char*
AggregateName(Aggregate a)
{
    switch (a)
    {
    case Aggregate::kTotal:
        return "total";
    case Aggregate::kMean:
        return "mean";
    case Aggregate::kLast:
        return "last";
    }
    return "?";
}

/// `SPEC`: the schema of this layout version, generated from the tables of layout.h.
py::dict
SpecDict()
{
    py::dict spec;
    spec["layout_version"] = kLayoutVersion;
    py::list arrays;
    for (const ArraySpec& s : Specs())
    {
        py::dict a;
        a["name"] = s.name;
        a["dtype"] = s.dtype;
        a["rows"] = s.rows;
        a["cols"] = s.cols;
        a["doc"] = s.doc;
        arrays.append(a);
    }
    spec["arrays"] = py::tuple(arrays);
    py::list globals;
    for (std::size_t i = 0; i < kNumGlobal; ++i)
    {
        globals.append(py::make_tuple(std::string(kGlobalFeatures[i]),
                                      std::string(kGlobalFeatureDocs[i]),
                                      AggregateName(kGlobalAggregates[i])));
    }
    spec["global_features"] = py::tuple(globals);
    spec["edge_features"] = FeatureRows(kEdgeFeatures, kEdgeFeatureDocs);
    spec["node_features"] = FeatureRows(kNodeFeatures, kNodeFeatureDocs);
    py::list fields;
#define PACKERL_X(type, member, pyname, doc)                                                    \
    fields.append(py::make_tuple(pyname, DtypeString<type>(), doc));
    PACKERL_HEADER_FIELDS(PACKERL_X)
#undef PACKERL_X
    spec["header_fields"] = py::tuple(fields);
    spec["dimensions"] = py::dict(py::arg("n") = "max_nodes", py::arg("e") = "max_edges",
                                  py::arg("d") = "max_demands", py::arg("f") = "max_failures");
    return spec;
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
    m.attr("SPEC") = SpecDict();
    m.attr("GLOBAL_FEATURES") = Names(kGlobalFeatures);
    m.attr("EDGE_FEATURES") = Names(kEdgeFeatures);
    m.attr("NODE_FEATURES") = Names(kNodeFeatures);
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

    m.def(
        "array_layout",
        [](uint32_t n, uint32_t e, uint32_t d, uint32_t f) {
            const Capacity c{n, e, d, f};
            const Offsets o = ComputeOffsets(c);
            py::dict out;
            for (const ArraySpec& s : Specs())
            {
                const Shape shape = ShapeOf(s.id, c);
                out[s.name] = py::make_tuple(o.*s.offset, s.dtype, py::make_tuple(shape.rows,
                                                                                  shape.cols));
            }
            return out;
        },
        py::arg("max_nodes"), py::arg("max_edges"), py::arg("max_demands"),
        py::arg("max_failures"),
        "Dict name -> (byte offset, dtype, (rows, cols)) of every array at this capacity.");

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
                    const Shape shape = ShapeOf(spec.id, c);
                    void* ptr = s.seg.base() + s.seg.offsets().*spec.offset;
                    out[spec.name] = py::array(py::dtype(spec.dtype), {shape.rows * shape.cols},
                                               {spec.itemBytes}, ptr, self);
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
#define PACKERL_X(type, member, pyname, doc)                                                    \
    .def_property(                                                                              \
        pyname, [](const PySegment& s) { return s.h()->member; },                               \
        [](PySegment& s, type v) { s.h()->member = v; }, doc)
            PACKERL_HEADER_FIELDS(PACKERL_X)
#undef PACKERL_X
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

# SPDX-License-Identifier: GPL-2.0-only
"""GraphML / GML import of user topologies."""

import networkx as nx
import numpy as np
import pytest

import synnet


def _zoo_like() -> nx.MultiGraph:
    g = nx.MultiGraph(label="ZooNet")
    coords = {"A": (10.0, 50.0), "B": (11.0, 51.0), "C": (12.0, 50.5), "D": (10.5, 52.0)}
    for n, (lon, lat) in coords.items():
        g.add_node(n, Longitude=lon, Latitude=lat)
    g.add_edge("A", "B", LinkSpeedRaw=1e9)
    g.add_edge("A", "B", LinkSpeedRaw=1e10)  # parallel link -> max datarate
    g.add_edge("B", "C", LinkSpeedRaw=2.5e9)
    g.add_edge("C", "D", LinkSpeedRaw=1e9)
    g.add_edge("D", "A", LinkSpeedRaw=1e8)
    g.add_edge("C", "C", LinkSpeedRaw=1e9)  # self-loop -> dropped
    return g


@pytest.mark.parametrize("suffix", [".graphml", ".gml"])
def test_import_zoo_like(tmp_path, suffix):
    path = tmp_path / f"net{suffix}"
    (nx.write_graphml if suffix == ".graphml" else nx.write_gml)(_zoo_like(), path)
    topo = synnet.load_topology(path)
    assert topo.num_nodes == 4 and topo.num_edges == 4
    assert topo.edges.tolist() == [[0, 1], [0, 3], [1, 2], [2, 3]]
    rates = dict(zip(map(tuple, topo.edges.tolist()), topo.datarate_bps))
    assert rates[(0, 1)] == 1e10 and rates[(0, 3)] == 1e8
    assert topo.delay_ms.mean() == pytest.approx(5.0) and topo.delay_ms.min() >= 1.0
    assert np.allclose(topo.positions.mean(axis=0), 0) and topo.positions[0, 0] == pytest.approx(10.0 - 10.875)
    assert topo.name == "ZooNet"
    scaled = synnet.load_topology(path, datarate_range=(50e6, 200e6))
    assert scaled.datarate_bps.min() == 50e6 and scaled.datarate_bps.max() == 200e6
    sc = synnet.generate(topo, "mixed_low", "weibull", steps=5, seed=0)
    assert len(sc.demands) > 0


def test_custom_attribute_names_and_delay(tmp_path):
    g = nx.cycle_graph(5)
    for i, (u, v) in enumerate(g.edges()):
        g.edges[u, v]["bw"] = 1e6 * (i + 1)
        g.edges[u, v]["lat"] = 2.0 + i
    path = tmp_path / "c.graphml"
    nx.write_graphml(g, path)
    topo = synnet.load_topology(path, datarate_attrs="bw", delay_attr="lat")
    assert sorted(topo.datarate_bps.tolist()) == [1e6, 2e6, 3e6, 4e6, 5e6]
    assert sorted(topo.delay_ms.tolist()) == [2.0, 3.0, 4.0, 5.0, 6.0]


def test_missing_attribute_names_edge(tmp_path):
    g = nx.path_graph(3)
    g.edges[0, 1]["LinkSpeedRaw"] = 1e9
    path = tmp_path / "m.graphml"
    nx.write_graphml(g, path)
    with pytest.raises(ValueError, match=r"edge \('1', '2'\) has no datarate attribute \(looked for 'LinkSpeedRaw'"):
        synnet.load_topology(path)
    topo = synnet.load_topology(path, default_datarate_bps=5e6)
    assert sorted(topo.datarate_bps.tolist()) == [5e6, 1e9]
    with pytest.raises(ValueError, match="no delay attribute 'lat'"):
        synnet.load_topology(path, default_datarate_bps=5e6, delay_attr="lat")


def test_bad_attribute_value(tmp_path):
    g = nx.path_graph(2)
    g.edges[0, 1]["LinkSpeedRaw"] = "fast"
    nx.write_graphml(g, tmp_path / "b.graphml")
    with pytest.raises(ValueError, match="'LinkSpeedRaw' of edge .* is not a number"):
        synnet.load_topology(tmp_path / "b.graphml")


def test_disconnected_rejected(tmp_path):
    g = nx.Graph()
    g.add_edge(0, 1, LinkSpeedRaw=1e9)
    g.add_edge(2, 3, LinkSpeedRaw=1e9)
    nx.write_graphml(g, tmp_path / "d.graphml")
    with pytest.raises(ValueError, match=r"disconnected \(2 components\)"):
        synnet.load_topology(tmp_path / "d.graphml")


def test_malformed_and_unsupported_files(tmp_path):
    (tmp_path / "bad.graphml").write_text("<graphml><graph><node id='a'>")
    with pytest.raises(ValueError, match="could not parse .* as GRAPHML"):
        synnet.load_topology(tmp_path / "bad.graphml")
    (tmp_path / "bad.gml").write_text("graph [ node [ id 0 ] edge [ source 0 ")
    with pytest.raises(ValueError, match="could not parse .* as GML"):
        synnet.load_topology(tmp_path / "bad.gml")
    (tmp_path / "x.txt").write_text("0 1")
    with pytest.raises(ValueError, match=r"unsupported topology file suffix '.txt'.*accepted: .graphml, .xml, .gml"):
        synnet.load_topology(tmp_path / "x.txt")
    with pytest.raises(FileNotFoundError):
        synnet.load_topology(tmp_path / "missing.graphml")
    g = nx.Graph()
    g.add_node(0)
    nx.write_graphml(g, tmp_path / "one.graphml")
    with pytest.raises(ValueError, match="at least 2 nodes"):
        synnet.load_topology(tmp_path / "one.graphml")


def test_a_non_numeric_coordinate_names_the_node(tmp_path):
    import networkx as nx

    from synnet import load_topology

    g = nx.Graph()
    g.add_node(0, Latitude="abc", Longitude=1.0)
    g.add_node(1, Latitude=2.0, Longitude=3.0)
    g.add_edge(0, 1, LinkSpeedRaw=1e7)
    path = tmp_path / "t.graphml"
    nx.write_graphml(g, path)
    with pytest.raises(ValueError, match="node '0' Latitude is not a number: 'abc'"):
        load_topology(path)

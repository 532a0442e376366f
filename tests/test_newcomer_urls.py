"""Tracking parameters are recognised by courlan's maintained rules (AdGuard, ClearURLs,
Firefox query stripping), plus the few news-site trackers courlan does not know; what
identifies the document stays."""

from __future__ import annotations

import pytest

from pipeline.urls import EXTRA_TRACKING_PARAMS, EXTRA_TRACKING_PREFIXES, canonicalize_url, is_tracking_param


@pytest.mark.parametrize(
    "name", ["itm_source", "itm_campaign", "partnerid", "clickid", "gs_lcrp", "ysclid", "ads_id"]
)
def test_trackers_known_to_courlan_are_dropped_without_a_list_of_our_own(name: str) -> None:
    assert name not in EXTRA_TRACKING_PARAMS and not name.startswith(EXTRA_TRACKING_PREFIXES)
    assert is_tracking_param(name)
    assert canonicalize_url(f"https://site.example/a?{name}=x&page=2") == "https://site.example/a?page=2"


@pytest.mark.parametrize("name", ["CMP", "ocid", "smid", "at_medium", "ns_source", "sr_share"])
def test_news_site_trackers_courlan_misses_are_still_dropped(name: str) -> None:
    assert canonicalize_url(f"https://site.example/a?{name}=x") == "https://site.example/a"


@pytest.mark.parametrize(
    "name", ["id", "p", "page", "article", "story", "articleid", "q", "lang", "year", ""]
)
def test_parameters_that_identify_the_document_are_kept(name: str) -> None:
    assert not is_tracking_param(name)

"""The sun's height from a position and a time, computed on the device (no network, no tables).

NOAA's solar position equations (after Meeus, "Astronomical Algorithms"): within a few
hundredths of a degree of the NOAA calculator for years 1950–2050, more than enough to tell
day from dusk. Pure functions.
"""

from __future__ import annotations

import math

CIVIL_TWILIGHT_DEG = -6.0  # below: night (street lights, headlights)
LOW_SUN_DEG = 6.0  # below (and above the twilight): dawn or dusk


def elevation(lat: float, lon: float, unix_time: float) -> float:
    """The sun's elevation above the horizon in degrees (refraction not added)."""
    jd = unix_time / 86400.0 + 2440587.5
    t = (jd - 2451545.0) / 36525.0  # Julian centuries since J2000
    mean_lon = math.radians((280.46646 + t * (36000.76983 + t * 0.0003032)) % 360)
    anomaly = math.radians(357.52911 + t * (35999.05029 - 0.0001537 * t))
    ecc = 0.016708634 - t * (0.000042037 + 0.0000001267 * t)
    centre = (
        math.sin(anomaly) * (1.914602 - t * (0.004817 + 0.000014 * t))
        + math.sin(2 * anomaly) * (0.019993 - 0.000101 * t)
        + math.sin(3 * anomaly) * 0.000289
    )
    true_lon = mean_lon + math.radians(centre)
    omega = math.radians(125.04 - 1934.136 * t)
    apparent = true_lon - math.radians(0.00569 + 0.00478 * math.sin(omega))
    obliquity = math.radians(
        23
        + (26 + (21.448 - t * (46.815 + t * (0.00059 - t * 0.001813))) / 60) / 60
        + 0.00256 * math.cos(omega)
    )
    declination = math.asin(math.sin(obliquity) * math.sin(apparent))
    y = math.tan(obliquity / 2) ** 2
    equation_of_time = 4 * math.degrees(  # minutes
        y * math.sin(2 * mean_lon)
        - 2 * ecc * math.sin(anomaly)
        + 4 * ecc * y * math.sin(anomaly) * math.cos(2 * mean_lon)
        - 0.5 * y * y * math.sin(4 * mean_lon)
        - 1.25 * ecc * ecc * math.sin(2 * anomaly)
    )
    minutes_utc = (unix_time % 86400.0) / 60.0
    solar_minutes = (minutes_utc + equation_of_time + 4 * lon) % 1440
    hour_angle = math.radians(solar_minutes / 4 - 180)
    phi = math.radians(lat)
    cos_zenith = math.sin(phi) * math.sin(declination) + math.cos(phi) * math.cos(
        declination
    ) * math.cos(hour_angle)
    return 90.0 - math.degrees(math.acos(max(-1.0, min(1.0, cos_zenith))))


def daylight(lat: float, lon: float, unix_time: float) -> str:
    """day, dawn, dusk or night at that place and time."""
    height = elevation(lat, lon, unix_time)
    if height < CIVIL_TWILIGHT_DEG:
        return "night"
    if height >= LOW_SUN_DEG:
        return "day"
    rising = elevation(lat, lon, unix_time + 600) > height
    return "dawn" if rising else "dusk"

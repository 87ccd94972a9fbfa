//! Points on the map and distances between them. Distances are great-circle
//! (haversine) kilometres: good to a few metres at Dutch scale, and the same
//! formula everywhere so the live engines and the reference agree.

use serde::{Deserialize, Serialize};

const EARTH_RADIUS_KM: f64 = 6371.0088;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GeoPoint {
    pub latitude: f64,
    pub longitude: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("coordinates out of range")]
pub struct InvalidCoordinates;

impl GeoPoint {
    pub fn new(latitude: f64, longitude: f64) -> Result<Self, InvalidCoordinates> {
        let ok = latitude.is_finite()
            && longitude.is_finite()
            && (-90.0..=90.0).contains(&latitude)
            && (-180.0..=180.0).contains(&longitude);
        if ok {
            Ok(GeoPoint { latitude, longitude })
        } else {
            Err(InvalidCoordinates)
        }
    }

    pub fn distance_km(&self, other: &GeoPoint) -> f64 {
        let (la1, la2) = (self.latitude.to_radians(), other.latitude.to_radians());
        let dlat = la2 - la1;
        let dlon = (other.longitude - self.longitude).to_radians();
        let a = (dlat / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlon / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_KM * a.sqrt().asin()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn alkmaar_to_den_helder_is_about_36_km() {
        let alkmaar = GeoPoint::new(52.6324, 4.7534).unwrap();
        let den_helder = GeoPoint::new(52.9563, 4.7601).unwrap();
        let d = alkmaar.distance_km(&den_helder);
        assert!((35.0..37.0).contains(&d), "{d}");
    }

    #[test]
    fn rejects_out_of_range() {
        assert!(GeoPoint::new(91.0, 0.0).is_err());
        assert!(GeoPoint::new(0.0, f64::NAN).is_err());
    }

    proptest! {
        #[test]
        fn distance_is_symmetric_and_non_negative(a in 50.0f64..54.0, b in 3.0f64..8.0, c in 50.0f64..54.0, d in 3.0f64..8.0) {
            let p = GeoPoint::new(a, b).unwrap();
            let q = GeoPoint::new(c, d).unwrap();
            prop_assert!(p.distance_km(&q) >= 0.0);
            prop_assert!((p.distance_km(&q) - q.distance_km(&p)).abs() < 1e-9);
            prop_assert!(p.distance_km(&p) < 1e-9);
        }
    }
}

//! The body map: where it hurts, as region codes (`front.knee_right`), front
//! and back. Left and right are the patient's own. The app draws the regions;
//! records keep the codes only.

/// Every region: its code and how it reads in French.
pub const REGIONS: &[(&str, &str)] = &[
    ("front.head", "Tête (face)"),
    ("front.neck", "Cou (face)"),
    ("front.shoulder_right", "Épaule droite (face)"),
    ("front.shoulder_left", "Épaule gauche (face)"),
    ("front.chest", "Thorax"),
    ("front.abdomen", "Abdomen"),
    ("front.arm_right", "Bras droit (face)"),
    ("front.arm_left", "Bras gauche (face)"),
    ("front.forearm_right", "Avant-bras droit (face)"),
    ("front.forearm_left", "Avant-bras gauche (face)"),
    ("front.hand_right", "Main droite (face)"),
    ("front.hand_left", "Main gauche (face)"),
    ("front.pelvis", "Bassin et aine"),
    ("front.thigh_right", "Cuisse droite (face)"),
    ("front.thigh_left", "Cuisse gauche (face)"),
    ("front.knee_right", "Genou droit"),
    ("front.knee_left", "Genou gauche"),
    ("front.leg_right", "Jambe droite (face)"),
    ("front.leg_left", "Jambe gauche (face)"),
    ("front.foot_right", "Pied droit"),
    ("front.foot_left", "Pied gauche"),
    ("back.head", "Tête (dos)"),
    ("back.neck", "Nuque"),
    ("back.shoulder_left", "Épaule gauche (dos)"),
    ("back.shoulder_right", "Épaule droite (dos)"),
    ("back.upper_back", "Haut du dos"),
    ("back.lower_back", "Bas du dos (lombaires)"),
    ("back.arm_left", "Bras gauche (dos)"),
    ("back.arm_right", "Bras droit (dos)"),
    ("back.forearm_left", "Avant-bras gauche (dos)"),
    ("back.forearm_right", "Avant-bras droit (dos)"),
    ("back.hand_left", "Main gauche (dos)"),
    ("back.hand_right", "Main droite (dos)"),
    ("back.buttocks", "Fesses"),
    ("back.thigh_left", "Cuisse gauche (arrière)"),
    ("back.thigh_right", "Cuisse droite (arrière)"),
    ("back.calf_left", "Mollet gauche"),
    ("back.calf_right", "Mollet droit"),
    ("back.heel_left", "Talon gauche"),
    ("back.heel_right", "Talon droit"),
];

pub fn label_fr(code: &str) -> Option<&'static str> {
    REGIONS.iter().find(|(c, _)| *c == code).map(|(_, l)| *l)
}

pub fn is_region(code: &str) -> bool {
    label_fr(code).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_say_their_side_of_the_body() {
        let mut codes: Vec<&str> = REGIONS.iter().map(|(c, _)| *c).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), REGIONS.len());
        assert!(codes
            .iter()
            .all(|c| c.starts_with("front.") || c.starts_with("back.")));
        assert_eq!(label_fr("back.lower_back"), Some("Bas du dos (lombaires)"));
        assert!(!is_region("front.tail"));
    }
}

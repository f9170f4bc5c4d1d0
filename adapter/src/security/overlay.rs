//! Admin changes to applications and subscriptions, kept apart from the seed they change: upserts
//! and deletions by id, applied over the `[security] subscriptions_file` tables.
//!
//! Where it sits: control plane. The deploy manager keeps one [`SubscriptionOverlay`]; each
//! admin call (`/api/turnpike/v1/applications`, `/subscriptions`) edits a copy, the manager
//! checks [`SubscriptionOverlay::apply`] of it over the seed, compiles and publishes, and only then
//! keeps the copy (persisted by [`super::admin_state`]). At start the seed file is read again and
//! the persisted overlay applied over it, so admin changes survive restarts while edits to the
//! file still show for everything the admin API did not touch.
//!
//! Rules:
//! - An upsert replaces the item with its id (seed or admin) in place, or adds it at the end.
//! - A deletion hides the item with its id, wherever it comes from; an upsert of the id later
//!   brings it back.
//! - Deleting an application deletes its subscriptions as well (as WSO2 does): the ones known at
//!   that moment are deleted by id, and a subscription the seed file gains later for a deleted
//!   application is dropped when the overlay is applied (with a warning).
//! - A subscription without an `id` (or `uuid`) gets `<application>:<api_name>:<api_version>`.
//!
//! What it does not do: no validation of the resulting table (that is
//! `turnpike_policy::auth::Subscriptions::new`), no I/O.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use turnpike_policy::auth::{Application, Subscription};

/// The id a subscription is known by: its `id`, or `<application>:<api_name>:<api_version>`.
pub fn subscription_id(sub: &Subscription) -> String {
    if sub.id.is_empty() {
        format!("{}:{}:{}", sub.application, sub.api_name, sub.api_version)
    } else {
        sub.id.clone()
    }
}

/// `sub` with its [`subscription_id`] written into `id`.
pub fn with_id(mut sub: Subscription) -> Subscription {
    sub.id = subscription_id(&sub);
    sub
}

/// See the module documentation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionOverlay {
    /// Upserted applications, by id.
    #[serde(default, with = "by_id_applications")]
    applications: BTreeMap<String, Application>,
    /// Upserted subscriptions (ids filled in), by id.
    #[serde(default, with = "by_id_subscriptions")]
    subscriptions: BTreeMap<String, Subscription>,
    #[serde(default)]
    deleted_applications: BTreeSet<String>,
    #[serde(default)]
    deleted_subscriptions: BTreeSet<String>,
}

/// What [`SubscriptionOverlay::apply`] produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    pub applications: Vec<Application>,
    /// Every subscription with its id filled in.
    pub subscriptions: Vec<Subscription>,
    /// Seed subscriptions dropped because their application was deleted.
    pub orphans: Vec<String>,
}

impl SubscriptionOverlay {
    /// Adds or replaces an application; returns whether `app.id` was unknown to `current`.
    pub fn upsert_application(&mut self, app: Application, current: &[Application]) -> bool {
        let created = !current.iter().any(|a| a.id == app.id);
        self.deleted_applications.remove(&app.id);
        self.applications.insert(app.id.clone(), app);
        created
    }

    /// Deletes an application and the subscriptions of it found in `current`; returns their ids.
    pub fn delete_application(&mut self, id: &str, current: &[Subscription]) -> Vec<String> {
        self.applications.remove(id);
        self.deleted_applications.insert(id.to_owned());
        let subs: Vec<String> =
            current.iter().filter(|s| s.application == id).map(subscription_id).collect();
        for sub in &subs {
            self.delete_subscription(sub);
        }
        subs
    }

    /// Adds or replaces a subscription (its id filled in); returns whether the id was unknown to
    /// `current`.
    pub fn upsert_subscription(&mut self, sub: Subscription, current: &[Subscription]) -> bool {
        let sub = with_id(sub);
        let created = !current.iter().any(|s| subscription_id(s) == sub.id);
        self.deleted_subscriptions.remove(&sub.id);
        self.subscriptions.insert(sub.id.clone(), sub);
        created
    }

    /// Deletes a subscription by id.
    pub fn delete_subscription(&mut self, id: &str) {
        self.subscriptions.remove(id);
        self.deleted_subscriptions.insert(id.to_owned());
    }

    /// Whether the admin API wrote the application with this id.
    pub fn has_application(&self, id: &str) -> bool {
        self.applications.contains_key(id)
    }

    /// Whether the admin API wrote the subscription with this id.
    pub fn has_subscription(&self, id: &str) -> bool {
        self.subscriptions.contains_key(id)
    }

    /// The seed with the overlay applied (see the module documentation).
    ///
    /// # Errors
    /// When two seed subscriptions have one id.
    pub fn apply(
        &self,
        seed_applications: &[Application],
        seed_subscriptions: &[Subscription],
    ) -> Result<Applied, String> {
        let mut applications = Vec::with_capacity(seed_applications.len());
        for app in seed_applications {
            if self.deleted_applications.contains(&app.id) {
                continue;
            }
            applications.push(self.applications.get(&app.id).unwrap_or(app).clone());
        }
        for (id, app) in &self.applications {
            if !seed_applications.iter().any(|a| &a.id == id) {
                applications.push(app.clone());
            }
        }
        let mut seen = BTreeSet::new();
        let mut subscriptions = Vec::with_capacity(seed_subscriptions.len());
        let mut orphans = Vec::new();
        for sub in seed_subscriptions {
            let sub = with_id(sub.clone());
            if !seen.insert(sub.id.clone()) {
                return Err(format!("subscription id {:?} is used twice", sub.id));
            }
            if self.deleted_subscriptions.contains(&sub.id) {
                continue;
            }
            let sub = self.subscriptions.get(&sub.id).cloned().unwrap_or(sub);
            if self.deleted_applications.contains(&sub.application) {
                orphans.push(sub.id);
                continue;
            }
            subscriptions.push(sub);
        }
        for (id, sub) in &self.subscriptions {
            if !seen.contains(id) {
                subscriptions.push(sub.clone());
            }
        }
        Ok(Applied { applications, subscriptions, orphans })
    }
}

/// A map by id, written as a list.
mod by_id_applications {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serializer};
    use turnpike_policy::auth::Application;

    pub fn serialize<S: Serializer>(
        map: &BTreeMap<String, Application>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(map.values())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, Application>, D::Error> {
        let list = Vec::<Application>::deserialize(d)?;
        Ok(list.into_iter().map(|a| (a.id.clone(), a)).collect())
    }
}

/// A map by id, written as a list.
mod by_id_subscriptions {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serializer};
    use turnpike_policy::auth::Subscription;

    pub fn serialize<S: Serializer>(
        map: &BTreeMap<String, Subscription>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(map.values())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, Subscription>, D::Error> {
        let list = Vec::<Subscription>::deserialize(d)?;
        Ok(list.into_iter().map(super::with_id).map(|s| (s.id.clone(), s)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use turnpike_policy::auth::{ConsumerKey, SubscriptionState};
    use turnpike_policy::KeyType;

    fn app(id: &str, key: &str) -> Application {
        Application {
            id: id.into(),
            name: format!("app {id}"),
            owner: String::new(),
            tier: "Unlimited".into(),
            consumer_keys: vec![ConsumerKey { key: key.into(), key_type: KeyType::Production }],
        }
    }

    fn sub(id: &str, application: &str, api: &str, state: SubscriptionState) -> Subscription {
        Subscription {
            id: id.into(),
            application: application.into(),
            api_name: api.into(),
            api_version: "1".into(),
            state,
            tier: "Unlimited".into(),
        }
    }

    fn ids<T>(items: &[T], id: impl Fn(&T) -> &str) -> Vec<String> {
        items.iter().map(|i| id(i).to_owned()).collect()
    }

    #[test]
    fn upserts_replace_in_place_and_add_at_the_end() {
        let seed_apps = vec![app("a", "ka"), app("b", "kb")];
        let seed_subs = vec![sub("", "a", "Pets", SubscriptionState::Active)];
        let mut overlay = SubscriptionOverlay::default();
        let applied = overlay.apply(&seed_apps, &seed_subs).unwrap();
        assert_eq!(applied.subscriptions[0].id, "a:Pets:1", "derived id");

        assert!(!overlay.upsert_application(app("a", "ka2"), &applied.applications));
        assert!(overlay.upsert_application(app("c", "kc"), &applied.applications));
        let blocked = sub("a:Pets:1", "a", "Pets", SubscriptionState::Blocked);
        assert!(!overlay.upsert_subscription(blocked.clone(), &applied.subscriptions));
        assert!(overlay.upsert_subscription(
            sub("s2", "c", "Pets", SubscriptionState::Active),
            &applied.subscriptions
        ));
        let applied = overlay.apply(&seed_apps, &seed_subs).unwrap();
        assert_eq!(ids(&applied.applications, |a| &a.id), ["a", "b", "c"]);
        assert_eq!(applied.applications[0].consumer_keys[0].key, "ka2");
        assert_eq!(
            applied.subscriptions,
            [blocked, sub("s2", "c", "Pets", SubscriptionState::Active)]
        );
        assert!(overlay.has_application("c") && !overlay.has_application("b"));
        assert!(overlay.has_subscription("s2"));
    }

    #[test]
    fn deleting_an_application_deletes_its_subscriptions() {
        let seed_apps = vec![app("a", "ka"), app("b", "kb")];
        let seed_subs = vec![
            sub("s1", "a", "Pets", SubscriptionState::Active),
            sub("s2", "b", "Pets", SubscriptionState::Active),
        ];
        let mut overlay = SubscriptionOverlay::default();
        let current = overlay.apply(&seed_apps, &seed_subs).unwrap();
        assert_eq!(overlay.delete_application("a", &current.subscriptions), ["s1"]);
        let applied = overlay.apply(&seed_apps, &seed_subs).unwrap();
        assert_eq!(ids(&applied.applications, |a| &a.id), ["b"]);
        assert_eq!(ids(&applied.subscriptions, |s| &s.id), ["s2"]);

        // The seed file later gains a subscription for the deleted application: dropped.
        let mut grown = seed_subs.clone();
        grown.push(sub("s3", "a", "Orders", SubscriptionState::Active));
        let applied = overlay.apply(&seed_apps, &grown).unwrap();
        assert_eq!(applied.orphans, ["s3"]);
        assert_eq!(ids(&applied.subscriptions, |s| &s.id), ["s2"]);

        // Re-creating the application does not bring its deleted subscriptions back.
        overlay.upsert_application(app("a", "ka"), &applied.applications);
        let applied = overlay.apply(&seed_apps, &seed_subs).unwrap();
        assert_eq!(ids(&applied.applications, |a| &a.id), ["a", "b"]);
        assert_eq!(ids(&applied.subscriptions, |s| &s.id), ["s2"]);

        overlay.delete_subscription("s2");
        assert!(overlay.apply(&seed_apps, &seed_subs).unwrap().subscriptions.is_empty());
    }

    #[test]
    fn duplicate_seed_ids_are_refused() {
        let seed_subs = vec![
            sub("s1", "a", "Pets", SubscriptionState::Active),
            sub("s1", "a", "Orders", SubscriptionState::Active),
        ];
        let err = SubscriptionOverlay::default().apply(&[app("a", "k")], &seed_subs).unwrap_err();
        assert!(err.contains("\"s1\""), "{err}");
    }

    #[test]
    fn persisted_form_round_trips() {
        let mut overlay = SubscriptionOverlay::default();
        overlay.upsert_application(app("a", "ka"), &[]);
        overlay.upsert_subscription(sub("", "a", "Pets", SubscriptionState::OnHold), &[]);
        overlay.delete_application("gone", &[]);
        overlay.delete_subscription("old");
        let json = serde_json::to_string(&overlay).unwrap();
        assert!(json.contains(r#""id":"a:Pets:1""#), "{json}");
        let back: SubscriptionOverlay = serde_json::from_str(&json).unwrap();
        assert_eq!(back, overlay);
        assert!(serde_json::from_str::<SubscriptionOverlay>(r#"{"apps":[]}"#).is_err());
        assert_eq!(
            serde_json::from_str::<SubscriptionOverlay>("{}").unwrap(),
            SubscriptionOverlay::default()
        );
    }
}

//! Applications and their subscriptions to APIs (WSO2's subscription model), checked per request
//! when the caller's key manager asks for subscription validation.
//!
//! An application owns OAuth2 consumer keys (production or sandbox); a subscription binds an
//! application to one API (name + version) with a state and a tier. As WSO2's key validator:
//! `BLOCKED`, `ON_HOLD` and `REJECTED` refuse every key, `PROD_ONLY_BLOCKED` refuses production
//! keys, and every other state (`ACTIVE` alias `UNBLOCKED`, `TIER_UPDATE_PENDING`,
//! `DELETE_PENDING`) lets requests through. The table is loaded by
//! the adapter from files and the admin API (`/api/turnpike/v1/applications`,
//! `/api/turnpike/v1/subscriptions`), validated once, and read-only here.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::KeyType;

/// WSO2 subscription states (`APIConstants.SubscriptionStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SubscriptionState {
    /// WSO2's `UNBLOCKED`.
    #[serde(alias = "UNBLOCKED")]
    Active,
    Blocked,
    OnHold,
    ProdOnlyBlocked,
    Rejected,
    /// A tier change waits for approval; the subscription keeps working meanwhile.
    TierUpdatePending,
    /// A removal waits for approval; the subscription keeps working meanwhile.
    DeletePending,
}

impl SubscriptionState {
    /// Whether a caller with `key_type` may use the API under this state.
    pub fn allows(self, key_type: KeyType) -> bool {
        match self {
            Self::Active | Self::TierUpdatePending | Self::DeletePending => true,
            Self::ProdOnlyBlocked => key_type == KeyType::Sandbox,
            Self::Blocked | Self::OnHold | Self::Rejected => false,
        }
    }
}

/// An OAuth2 consumer key of an application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsumerKey {
    pub key: String,
    #[serde(default = "production", with = "key_type_name")]
    pub key_type: KeyType,
}

fn production() -> KeyType {
    KeyType::Production
}

mod key_type_name {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::KeyType;

    pub fn serialize<S: Serializer>(k: &KeyType, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match k {
            KeyType::Production => "PRODUCTION",
            KeyType::Sandbox => "SANDBOX",
        })
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<KeyType, D::Error> {
        let text = String::deserialize(d)?;
        match text.to_ascii_uppercase().as_str() {
            "PRODUCTION" => Ok(KeyType::Production),
            "SANDBOX" => Ok(KeyType::Sandbox),
            _ => Err(serde::de::Error::custom("expected PRODUCTION or SANDBOX")),
        }
    }
}

/// An application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Application {
    /// Unique id (WSO2 application UUID; `uuid` is accepted for it).
    #[serde(alias = "uuid")]
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub owner: String,
    /// Application throttling tier.
    #[serde(default = "unlimited")]
    pub tier: String,
    #[serde(default)]
    pub consumer_keys: Vec<ConsumerKey>,
}

fn unlimited() -> String {
    "Unlimited".to_owned()
}

/// One application's subscription to one API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subscription {
    /// Unique id (WSO2 subscription UUID; `uuid` is accepted for it). Not used by the check; the
    /// adapter gives subscriptions without one an id of their own.
    #[serde(default, alias = "uuid", skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// The application's id.
    pub application: String,
    pub api_name: String,
    pub api_version: String,
    #[serde(default = "active")]
    pub state: SubscriptionState,
    /// Subscription throttling tier.
    #[serde(default = "unlimited")]
    pub tier: String,
}

fn active() -> SubscriptionState {
    SubscriptionState::Active
}

/// Why a table was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidSubscriptions {
    DuplicateApplication(String),
    DuplicateConsumerKey(String),
    UnknownApplication { subscription: usize, application: String },
    DuplicateSubscription { application: String, api: String },
}

impl fmt::Display for InvalidSubscriptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DuplicateApplication(id) => write!(f, "application {id:?} is defined twice"),
            Self::DuplicateConsumerKey(_) => {
                f.write_str("a consumer key belongs to two applications")
            }
            Self::UnknownApplication { subscription, application } => write!(
                f,
                "subscription {subscription} names application {application:?}, which is not defined"
            ),
            Self::DuplicateSubscription { application, api } => {
                write!(f, "application {application:?} subscribes to {api} twice")
            }
        }
    }
}

impl std::error::Error for InvalidSubscriptions {}

/// Why the subscription check refused a caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionRefusal {
    /// No application owns the consumer key.
    UnknownConsumerKey,
    /// The application has no subscription to the API.
    NotSubscribed,
    /// The subscription is blocked, on hold, rejected, or production-blocked for a production key.
    Inactive(SubscriptionState),
}

/// The validated table.
#[derive(Debug, Clone, Default)]
pub struct Subscriptions {
    applications: Vec<Application>,
    by_consumer_key: HashMap<String, (usize, KeyType)>,
    /// `(application index, api name, api version)` → subscription index.
    subscribed: HashMap<(usize, String, String), usize>,
    subscriptions: Vec<Subscription>,
}

impl Subscriptions {
    /// Validates and indexes `applications` and `subscriptions`.
    pub fn new(
        applications: Vec<Application>,
        subscriptions: Vec<Subscription>,
    ) -> Result<Self, InvalidSubscriptions> {
        let mut by_id = HashMap::new();
        let mut by_consumer_key = HashMap::new();
        for (i, app) in applications.iter().enumerate() {
            if by_id.insert(app.id.clone(), i).is_some() {
                return Err(InvalidSubscriptions::DuplicateApplication(app.id.clone()));
            }
            for key in &app.consumer_keys {
                if by_consumer_key.insert(key.key.clone(), (i, key.key_type)).is_some() {
                    return Err(InvalidSubscriptions::DuplicateConsumerKey(key.key.clone()));
                }
            }
        }
        let mut subscribed = HashMap::new();
        for (s, sub) in subscriptions.iter().enumerate() {
            let Some(&app) = by_id.get(&sub.application) else {
                return Err(InvalidSubscriptions::UnknownApplication {
                    subscription: s,
                    application: sub.application.clone(),
                });
            };
            let key = (app, sub.api_name.clone(), sub.api_version.clone());
            if subscribed.insert(key, s).is_some() {
                return Err(InvalidSubscriptions::DuplicateSubscription {
                    application: sub.application.clone(),
                    api: format!("{}:{}", sub.api_name, sub.api_version),
                });
            }
        }
        Ok(Self { applications, by_consumer_key, subscribed, subscriptions })
    }

    /// Every application.
    pub fn applications(&self) -> &[Application] {
        &self.applications
    }

    /// Every subscription.
    pub fn subscriptions(&self) -> &[Subscription] {
        &self.subscriptions
    }

    /// The application owning `consumer_key` and the key's type.
    pub fn application_of(&self, consumer_key: &str) -> Option<(&Application, KeyType)> {
        let &(i, key_type) = self.by_consumer_key.get(consumer_key)?;
        Some((self.applications.get(i)?, key_type))
    }

    /// Checks that the application owning `consumer_key` may call API `name`:`version` with a
    /// key of `key_type`; returns the application and the key's type.
    pub fn check(
        &self,
        consumer_key: &str,
        name: &str,
        version: &str,
    ) -> Result<(&Application, KeyType), SubscriptionRefusal> {
        let &(app, key_type) = self
            .by_consumer_key
            .get(consumer_key)
            .ok_or(SubscriptionRefusal::UnknownConsumerKey)?;
        let application =
            self.applications.get(app).ok_or(SubscriptionRefusal::UnknownConsumerKey)?;
        let index = self
            .subscribed
            .get(&(app, name.to_owned(), version.to_owned()))
            .ok_or(SubscriptionRefusal::NotSubscribed)?;
        let sub = self.subscriptions.get(*index).ok_or(SubscriptionRefusal::NotSubscribed)?;
        if !sub.state.allows(key_type) {
            return Err(SubscriptionRefusal::Inactive(sub.state));
        }
        Ok((application, key_type))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Subscriptions {
        let apps: Vec<Application> = serde_json::from_str(
            r#"[{"id":"a1","name":"shop","consumer_keys":[{"key":"ck-prod"},
                 {"key":"ck-sb","key_type":"SANDBOX"}]},
                {"id":"a2","name":"other","consumer_keys":[{"key":"ck2"}]}]"#,
        )
        .unwrap();
        let subs: Vec<Subscription> = serde_json::from_str(
            r#"[{"application":"a1","api_name":"Pets","api_version":"1.0"},
                {"application":"a2","api_name":"Pets","api_version":"1.0","state":"BLOCKED"},
                {"application":"a1","api_name":"Orders","api_version":"2","state":"PROD_ONLY_BLOCKED"}]"#,
        )
        .unwrap();
        Subscriptions::new(apps, subs).unwrap()
    }

    #[test]
    fn active_subscription_passes_and_others_are_refused() {
        let t = table();
        assert_eq!(t.check("ck-prod", "Pets", "1.0").unwrap().0.name, "shop");
        assert_eq!(t.check("nope", "Pets", "1.0"), Err(SubscriptionRefusal::UnknownConsumerKey));
        assert_eq!(t.check("ck-prod", "Pets", "2.0"), Err(SubscriptionRefusal::NotSubscribed));
        assert_eq!(
            t.check("ck2", "Pets", "1.0"),
            Err(SubscriptionRefusal::Inactive(SubscriptionState::Blocked))
        );
        assert!(t.check("ck-prod", "Orders", "2").is_err());
        assert_eq!(t.check("ck-sb", "Orders", "2").unwrap().1, KeyType::Sandbox);
    }

    #[test]
    fn wso2_states_and_uuid_names() {
        let parse = |text: &str| serde_json::from_str::<SubscriptionState>(text).unwrap();
        assert_eq!(parse(r#""UNBLOCKED""#), SubscriptionState::Active);
        for (text, production, sandbox) in [
            (r#""ACTIVE""#, true, true),
            (r#""TIER_UPDATE_PENDING""#, true, true),
            (r#""DELETE_PENDING""#, true, true),
            (r#""PROD_ONLY_BLOCKED""#, false, true),
            (r#""BLOCKED""#, false, false),
            (r#""ON_HOLD""#, false, false),
            (r#""REJECTED""#, false, false),
        ] {
            let state = parse(text);
            assert_eq!(state.allows(KeyType::Production), production, "{text}");
            assert_eq!(state.allows(KeyType::Sandbox), sandbox, "{text}");
            assert_eq!(serde_json::to_string(&state).unwrap(), text);
        }
        assert!(serde_json::from_str::<SubscriptionState>(r#""PAUSED""#).is_err());
        let app: Application = serde_json::from_str(r#"{"uuid":"u1","name":"n"}"#).unwrap();
        assert_eq!(app.id, "u1");
        let sub: Subscription = serde_json::from_str(
            r#"{"uuid":"s1","application":"u1","api_name":"P","api_version":"1"}"#,
        )
        .unwrap();
        assert_eq!(sub.id, "s1");
        let text = serde_json::to_string(&Subscription { id: String::new(), ..sub }).unwrap();
        assert!(!text.contains("\"id\""), "an empty id is not written: {text}");
    }

    #[test]
    fn invalid_tables_are_refused() {
        let app = |id: &str, key: &str| Application {
            id: id.into(),
            name: id.into(),
            owner: String::new(),
            tier: "Unlimited".into(),
            consumer_keys: vec![ConsumerKey { key: key.into(), key_type: KeyType::Production }],
        };
        assert!(matches!(
            Subscriptions::new(vec![app("a", "k"), app("a", "j")], vec![]),
            Err(InvalidSubscriptions::DuplicateApplication(_))
        ));
        assert!(matches!(
            Subscriptions::new(vec![app("a", "k"), app("b", "k")], vec![]),
            Err(InvalidSubscriptions::DuplicateConsumerKey(_))
        ));
        let sub = Subscription {
            id: String::new(),
            application: "zz".into(),
            api_name: "P".into(),
            api_version: "1".into(),
            state: SubscriptionState::Active,
            tier: "Unlimited".into(),
        };
        assert!(matches!(
            Subscriptions::new(vec![app("a", "k")], vec![sub]),
            Err(InvalidSubscriptions::UnknownApplication { .. })
        ));
    }
}

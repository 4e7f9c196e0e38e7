//! The groups that give each product on the site, found by Atlassian's access lookups, never
//! by default names.
//!
//! Atlassian: "The standard Atlassian group names are default names only and can be edited or
//! deleted" (Confluence REST, Group), and staff ask integrators to "use Bulk Get Groups API to
//! fetch groups having certain permissions/access instead of relying on special default names".
//! Jira answers `GET /group/bulk?accessType=user&applicationKey=…` per Jira product, Confluence
//! `GET /wiki/rest/api/group?accessType=user`.

use std::time::Instant;

use super::confluence::ConfluenceGroup;
use super::jira::JiraGroup;
use super::{ConfluenceClient, JiraClient};

/// The Jira products whose access groups are looked up, with the names admins know.
const JIRA_PRODUCTS: [(&str, &str); 4] = [
    ("jira-software", "Jira Software"),
    ("jira-servicedesk", "Jira Service Management"),
    ("jira-product-discovery", "Jira Product Discovery"),
    ("jira-core", "Jira Work Management"),
];

/// A group, by id and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GroupRef {
    /// The organization-wide group id.
    pub id: String,
    /// The name now.
    pub name: String,
}

impl From<ConfluenceGroup> for GroupRef {
    fn from(g: ConfluenceGroup) -> Self {
        GroupRef {
            id: g.id,
            name: g.name,
        }
    }
}

impl From<JiraGroup> for GroupRef {
    fn from(g: JiraGroup) -> Self {
        GroupRef {
            id: g.group_id,
            name: g.name,
        }
    }
}

/// The groups that give one product, or why they are not known.
#[derive(Debug, Clone)]
pub(crate) struct Granting {
    /// The product, as admins name it.
    pub product: &'static str,
    /// Its user-access groups; `Err` says why they could not be read.
    pub groups: Result<Vec<GroupRef>, String>,
}

/// The user-access groups of every product the site answers for. A product the site does not
/// have answers no group and is left out.
pub(crate) async fn user_access(
    jira: &JiraClient,
    confluence: &ConfluenceClient,
    deadline: Instant,
) -> Vec<Granting> {
    let mut products = Vec::new();
    for (key, product) in JIRA_PRODUCTS {
        let groups = match jira.groups_granting("user", Some(key), deadline).await {
            Ok(Some(groups)) => Ok(groups.into_iter().map(GroupRef::from).collect()),
            Ok(None) => {
                // `/group/bulk` is gone: the application roles name the groups instead.
                products.extend(by_application_role(jira, deadline).await);
                break;
            }
            Err(e) => Err(e.message),
        };
        products.push(Granting { product, groups });
    }
    let groups = confluence
        .groups_granting("user", deadline)
        .await
        .map(|groups| groups.into_iter().map(GroupRef::from).collect())
        .map_err(|e| e.message);
    products.push(Granting {
        product: "Confluence",
        groups,
    });
    products.retain(|p| p.groups.as_ref().map_or(true, |g| !g.is_empty()));
    products
}

/// The Jira products and their groups by `GET /applicationrole` (groups by name only).
async fn by_application_role(jira: &JiraClient, deadline: Instant) -> Vec<Granting> {
    match jira.application_roles(deadline).await {
        Ok(roles) => roles
            .into_iter()
            .filter_map(|role| {
                let (_, product) = JIRA_PRODUCTS.iter().find(|(key, _)| *key == role.key)?;
                let groups = role
                    .groups
                    .into_iter()
                    .map(|name| GroupRef {
                        id: String::new(),
                        name,
                    })
                    .collect();
                Some(Granting {
                    product,
                    groups: Ok(groups),
                })
            })
            .collect(),
        Err(e) => vec![Granting {
            product: "Jira",
            groups: Err(e.message),
        }],
    }
}

/// The products `group` gives access to: by id, or by name where only names are known.
pub(crate) fn products_of<'a>(products: &'a [Granting], group: &GroupRef) -> Vec<&'a str> {
    let same = |g: &GroupRef| {
        if g.id.is_empty() {
            g.name.eq_ignore_ascii_case(&group.name)
        } else {
            g.id == group.id
        }
    };
    products
        .iter()
        .filter(|p| {
            p.groups
                .as_ref()
                .is_ok_and(|groups| groups.iter().any(same))
        })
        .map(|p| p.product)
        .collect()
}

/// `Jira Software: a, b; Confluence: c`, for a message an admin copies a name from.
pub(crate) fn describe(products: &[Granting]) -> String {
    if products.is_empty() {
        return "the site named no group that gives product access".into();
    }
    products
        .iter()
        .map(|p| match &p.groups {
            Ok(groups) => {
                let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
                format!("{}: {}", p.product, names.join(", "))
            }
            Err(why) => format!("{}: unknown ({why})", p.product),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

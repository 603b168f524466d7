package demo

// parties are the names a business group's entries mention. They are
// fictitious except public bodies (tax agencies).
type parties struct {
	suppliers    []string // paid by EFT
	pads         []string // collect by pre-authorized debit
	customers    []string // pay by EFT or cheque
	usCustomers  []string
	usSuppliers  []string
	people       []string // Interac e-Transfer counterparts
	merchants    []string // card purchases
	wireDomestic []string
	wireForeign  []string
	foreignBanks []string
	taxAgency    string
	payrollMemo  string
}

var mapleParties = parties{
	suppliers: []string{
		"Northshore Steel Supply Ltd.", "Ridgeway Fasteners Inc.", "Credit Valley Packaging", "Lakeshore Industrial Gases",
		"Halton Tool & Die", "Precision Coatings Ontario", "Grand River Logistics", "Trillium Electrical Supply",
		"Escarpment Machining Ltd.", "Oakville Safety Products",
	},
	pads: []string{
		"Ontario Power Utilities", "Lakeside Gas Distribution", "Northern Telecom Services", "Maplecrest Insurance",
		"Peel Equipment Leasing", "Workplace Safety Insurance Board",
	},
	customers: []string{
		"Great Lakes Auto Parts Inc.", "Prairie Farm Equipment Ltd.", "Atlantic Marine Supply", "Harbourfront Builders",
		"Georgian Bay Boatworks", "Niagara Fabricators", "Rideau Home Systems", "Kawartha Cabinets Ltd.",
	},
	usCustomers: []string{"Midwest Tooling LLC", "Buckeye Assembly Corp.", "Lake Erie Motors Inc.", "Hudson Valley Machinery"},
	usSuppliers: []string{"Pittsburgh Alloy Co.", "Ohio Bearing & Drive", "Detroit Robotics Inc."},
	people:      []string{"Priya Raman", "Daniel Okafor", "Mei Chen", "Lucas Martin", "Sofia Rossi", "Ahmed Haddad", "Emily Tremblay"},
	merchants: []string{
		"Staples Business Depot", "Air Canada", "Via Rail", "Home Hardware", "Petro-Canada", "Amazon.ca", "Best Western Sudbury",
		"The Keg Steakhouse", "Uber Trip", "Microsoft 365",
	},
	wireDomestic: []string{"Bluewater Commercial Realty", "Dufferin Capital Equipment", "Laurentian Metals Trading"},
	wireForeign:  []string{"Shenzhen Hualong Machinery Co.", "Stuttgart Präzisionsteile GmbH", "Monterrey Aceros S.A. de C.V."},
	foreignBanks: []string{"BKCHCNBJ Bank of China Shenzhen", "DEUTDESS Deutsche Bank Stuttgart", "BNMXMXMM Banamex Monterrey"},
	taxAgency:    "Receiver General for Canada",
	payrollMemo:  "Bi-weekly payroll",
}

var borealParties = parties{
	suppliers: []string{
		"Pétrolière Laurentienne inc.", "Garage Lévesque & Fils", "Pneus Beauce inc.", "Entrepôts Rive-Sud ltée",
		"Réparations Diesel Mauricie", "Fournitures de bureau Champlain", "Manutention Québec inc.",
	},
	pads: []string{"Énergie Québec", "Télécom Laurentides", "Assurances Saint-Laurent", "Location d'équipement Montérégie", "CNESST"},
	customers: []string{
		"Épicerie Fine Champlain", "Meubles Saguenay ltée", "Papeterie Mauricie inc.", "Quincaillerie Richelieu",
		"Boulangerie Saint-Jean", "Distribution Outaouais inc.",
	},
	usCustomers: []string{"Vermont Maple Distributors LLC", "Boston Freight Partners", "Adirondack Paper Co."},
	usSuppliers: []string{"Maine Trailer Parts Inc.", "New England Fuel Cards LLC"},
	people:      []string{"Marie-Ève Gagnon", "Jean-François Roy", "Isabelle Côté", "Mathieu Bouchard", "Chloé Gauthier"},
	merchants: []string{
		"Esso Saint-Hyacinthe", "Couche-Tard", "Canadian Tire Lévis", "Hôtel Château Laurier", "Bureau en Gros",
		"Tim Hortons", "Ultramar Drummondville", "Porter Airlines",
	},
	wireDomestic: []string{"Crédit-bail Laurentien inc.", "Immeubles Estrie ltée"},
	wireForeign:  []string{"Transportes del Norte S.A.", "Rotterdam Cargo Services B.V."},
	foreignBanks: []string{"BNMXMXMM Banamex Mexico", "ABNANL2A ABN AMRO Rotterdam"},
	taxAgency:    "Revenu Québec",
	payrollMemo:  "Paie aux deux semaines",
}
